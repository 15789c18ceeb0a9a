"""Each paper-scale config resolves (merged into params.yaml, validated, its DVC targets exist) and each of
its networks takes one tiny training step."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
import torch

from configs.paper import command, load_config, merged_text, names
from ebm.accel import accelerate
from ebm.models import build_energy
from ebm.training import Trainer
from stages.common.composition import factor_energy
from stages.common.io import UserError
from stages.common.params import load_params
from stages.common.sections.full import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
DVC = Path(sys.executable).parent / "dvc"
SHAPES = {"cifar10": ((3, 32, 32), 10), "imagenet32": ((3, 32, 32), 1000), "imagenet128": ((3, 128, 128), 1000),
          "mnist": ((1, 28, 28), 10)}


def resolve(name, tmp_path):
    """The config merged into the repository's params.yaml (as `make paper` does), validated."""
    needs_data = name.startswith("imagenet")
    cfg = load_config(name, data=str(tmp_path / "data") if needs_data else None)
    (tmp_path / "params.yaml").write_text(merged_text((ROOT / "params.yaml").read_text(), cfg["params"]))
    return cfg, load_params(*SCHEMAS, path=tmp_path / "params.yaml")


def test_every_documented_config_is_there():
    assert set(names()) == {"cifar10_uncond", "cifar10_cond", "imagenet32_cond", "imagenet128_cond", "mnist", "dsprites",
                            "split_mnist"}


@pytest.mark.parametrize("name", names())
def test_config_resolves_and_its_targets_are_dvc_stages(name, tmp_path):
    cfg, params = resolve(name, tmp_path)
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    subprocess.run([str(DVC), "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    stages = subprocess.run([str(DVC), "stage", "list", "--name-only"], cwd=tmp_path, capture_output=True, text=True)
    assert stages.returncode == 0, stages.stderr
    assert set(cfg["targets"]) <= set(stages.stdout.split())
    if name in ("cifar10_uncond", "cifar10_cond"):  # the paper's CIFAR-10 settings
        train, langevin = params["train"][:2]
        assert (langevin.n_steps, langevin.step_size, train.batch_size) == (60, 10.0, 128)
        assert params["fid"][0] == {name: "cifar10"}


BIG = {"imagenet32_cond", "imagenet128_cond"}  # ResNet32Wider (~60M weights), ResNet128 at 128x128: ~10-20 s each


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n
                                  for n in names() if n not in ("dsprites", "split_mnist")])
def test_each_network_takes_a_tiny_training_step(name, tmp_path):
    _, params = resolve(name, tmp_path)
    train_cfg, langevin_cfg, *_, accel, _ = params["train"]
    new = {k: v for k, v in params["variants"].items() if not k.startswith("digits")}
    assert new
    for var in new.values():
        (shape, classes), label_dim = SHAPES[var.dataset], SHAPES[var.dataset][1] if var.conditional else 0
        torch.manual_seed(0)
        net = build_energy(var.network, shape[0], label_dim, shape[-1])
        fast, chain = accelerate(net, accel, torch.device("cpu"))
        tiny = dataclasses.replace(train_cfg, batch_size=2, replay_size=8)
        trainer = Trainer(fast, tiny, dataclasses.replace(langevin_cfg, n_steps=1), lambda n: torch.rand(n, *shape),
                          chain_model=chain)
        y = torch.randint(0, classes, (2,)) if var.conditional else None
        stats = trainer.step(torch.rand(2, *shape), y)
        assert all(torch.isfinite(torch.tensor(v)) for v in stats.values()), (name, var.network)


def test_dsprites_factor_networks_take_a_tiny_training_step_at_64x64(tmp_path):
    _, params = resolve("dsprites", tmp_path)
    assert params["dsprites"].image_size == 64 and params["dsprites"].source == "real"
    factors = params["factors"].cfg
    for factor in factors.names:
        net_cfg, train_cfg, langevin_cfg = params["factors"].of(factor)
        model = factor_energy(64 * 64, factor, net_cfg, factors.label_gain)
        tiny = dataclasses.replace(train_cfg, batch_size=2, replay_size=8)
        trainer = Trainer(model, tiny, dataclasses.replace(langevin_cfg, n_steps=1), lambda n: torch.rand(n, 1, 64, 64))
        y = torch.rand(2, model.biases[0].label_dim)
        assert torch.isfinite(torch.tensor(trainer.step(torch.rand(2, 1, 64, 64), y)["loss"]))


@pytest.mark.parametrize("name", names())
def test_the_dvc_overrides_give_the_merged_params(name, tmp_path):
    """What `dvc exp run -S` makes of the command's overrides (DVC's own code) is the merged config."""
    from dvc.utils.hydra import apply_overrides

    cfg = load_config(name, data=str(tmp_path / "data") if name.startswith("imagenet") else None)
    copy = tmp_path / "params.yaml"
    copy.write_text((ROOT / "params.yaml").read_text())
    cmd = command(name, cfg)
    assert cmd[:6] == ["dvc", "exp", "run", "--temp", "-n", name] and cmd[-len(cfg["targets"]):] == cfg["targets"]
    apply_overrides(str(copy), [a for a in cmd if a.startswith("++")])
    merged = merged_text((ROOT / "params.yaml").read_text(), cfg["params"])
    assert yaml.safe_load(copy.read_text()) == yaml.safe_load(merged)


def test_make_paper_leaves_the_tracked_params_yaml_alone():
    before = (ROOT / "params.yaml").read_bytes()
    r = subprocess.run([sys.executable, "-m", "configs.paper", "cifar10_uncond", "--no-run"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "dvc exp run --temp -n cifar10_uncond" in r.stdout and '"++train.n_steps=60"' in r.stdout
    assert (ROOT / "params.yaml").read_bytes() == before


def test_imagenet_configs_need_a_data_path_and_unknown_names_are_listed(tmp_path):
    with pytest.raises(UserError, match="imagenet32_cond: reads its data from a path you give: --data"):
        load_config("imagenet32_cond")
    assert load_config("imagenet32_cond", data=str(tmp_path))["params"]["download"]["imagenet32_path"] == str(tmp_path)
    with pytest.raises(UserError, match="no such paper config .*cifar10_uncond"):
        load_config("cifar100")
    assert load_config("cifar10_uncond", nproc=4)["params"]["train"]["nproc"] == 4
