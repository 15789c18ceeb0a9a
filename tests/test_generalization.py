"""Generalisation experiments: corruption/restoration, cross-class, OOD AUROC, PGD robustness.

Each library test pins a metric or an invariant that breaks if the code is wrong;
the stage tests run the four stages on a tiny workspace (untrained models) and
check their outputs and their one-line errors.
"""

import json
import math
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ebm.checkpoint import pack
from ebm.generalization import (
    DatasetUnavailable, RestoreConfig, auroc, bottom_half, cross_class_chains, energy_logits, fit_calibration,
    load_torchvision_set, mse_per_image, ood_scores, other_labels, pgd, project, restore, roc, salt_and_pepper,
    transform_set,
)
from ebm.sampling import LangevinConfig

ROOT = Path(__file__).resolve().parents[1]


class Quadratic(torch.nn.Module):
    """E(x, y) = ||x - proto_y||^2 per image: its minimum under label y is the prototype."""

    def __init__(self, protos: torch.Tensor):  # [K, C, H, W]
        super().__init__()
        self.protos = torch.nn.Parameter(protos)
        self.label_dim = len(protos)

    def forward(self, x, y=None):
        p = self.protos[0] if y is None else self.protos[y]
        return ((x - p) ** 2).flatten(1).sum(1)


# ---- denoising / inpainting ------------------------------------------------------------

def test_salt_and_pepper_hits_the_asked_shares_with_the_asked_values():
    x = torch.full((200, 1, 8, 8), 0.5)
    xc, mask = salt_and_pepper(x, RestoreConfig(), torch.Generator().manual_seed(0))
    assert abs((xc == 0.1).float().mean().item() - 0.05) < 0.01
    assert abs((xc == 0.9).float().mean().item() - 0.05) < 0.01
    assert torch.equal(mask.bool(), (xc != 0.5))  # the mask is exactly the changed pixels


def test_bottom_half_replaces_only_the_bottom_rows():
    x = torch.full((4, 1, 8, 8), 0.5)
    xc, mask = bottom_half(x, torch.Generator().manual_seed(0))
    assert torch.equal(xc[:, :, :4], x[:, :, :4]) and (xc[:, :, 4:] != 0.5).all()
    assert mask[0, 0, :4].sum() == 0 and mask[0, 0, 4:].min() == 1


def test_restoring_an_uncorrupted_image_leaves_it_nearly_unchanged():
    clean = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    model = Quadratic(clean[:3].clone())
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    x = clean[y]  # each image sits at its class's energy minimum
    cfg = LangevinConfig(n_steps=20, step_size=0.1, noise_std=0.005, grad_clip=0.0)
    out = restore(model, x, y, torch.ones(1, 1, 8, 8), cfg, rounds=2, generator=torch.Generator().manual_seed(0))
    assert mse_per_image(out, x).max() < 1e-4


def test_restore_fixes_masked_pixels_and_keeps_the_rest_exactly():
    proto = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    model = Quadratic(proto.clone())
    x, y = proto.repeat(5, 1, 1, 1), torch.zeros(5, dtype=torch.long)
    xc, mask = bottom_half(x, torch.Generator().manual_seed(0))
    cfg = LangevinConfig(n_steps=50, step_size=0.2, noise_std=0.0, grad_clip=0.0)
    out = restore(model, xc, y, mask, cfg, rounds=1)
    assert torch.equal(out[:, :, :4], xc[:, :, :4])  # unmasked pixels untouched
    assert mse_per_image(out, x).max() < 1e-6 < mse_per_image(xc, x).min()
    assert torch.allclose(mse_per_image(torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)), torch.ones(2))



def test_the_restore_experiment_runs_every_task_on_both_splits_and_compares_them():
    from ebm.generalization import RestoreConfig, corruption

    protos = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    model = Quadratic(protos.clone())
    y = torch.tensor([0, 1, 2, 0])
    splits = {"train": (protos[y], y), "test": (protos[y].flip(0), y.flip(0))}
    cfg, lcfg = RestoreConfig(denoise_rounds=1, inpaint_rounds=1), LangevinConfig(n_steps=5, step_size=0.2)
    seen = []
    result = corruption.run(model, splits, cfg, lcfg, torch.Generator().manual_seed(0),
                            on_task=lambda task, split: seen.append((task, split)))
    assert seen == [(t, s) for s in ("train", "test") for t in corruption.TASKS] == list(result.images)
    gen = torch.Generator().manual_seed(0)  # the same draws, task by task, as the stage made them before
    for task, split in seen:
        xc, xr, m = corruption.restore_task(model, task, *splits[split], cfg, lcfg, gen)
        assert m == result.metrics[f"{task}_{split}"] and torch.equal(xr, result.images[(task, split)][1])
    assert result.metrics["inpaint_test_over_train_mse"] == (result.metrics["inpaint_test"]["mse"]
                                                             / result.metrics["inpaint_train"]["mse"])


# ---- cross-class -------------------------------------------------------------------------

def test_other_labels_always_differ_and_cover_every_other_class():
    y = torch.arange(10).repeat(100)
    new = other_labels(y, 10, torch.Generator().manual_seed(0))
    assert (new != y).all() and set(new[y == 3].tolist()) == set(range(10)) - {3}


def test_cross_class_chains_start_at_the_image_and_end_at_the_new_class():
    protos = torch.stack([torch.full((1, 8, 8), 0.2), torch.full((1, 8, 8), 0.8)])
    model = Quadratic(protos)
    x0 = protos[torch.tensor([0, 1])]
    cfg = LangevinConfig(n_steps=10, step_size=0.2, noise_std=0.0, grad_clip=0.0)
    traj = cross_class_chains(model, x0, torch.tensor([1, 0]), cfg, rounds=3)
    assert traj.shape == (4, 2, 1, 8, 8) and torch.equal(traj[0], x0)
    assert torch.allclose(traj[-1], protos[torch.tensor([1, 0])], atol=1e-3)


# ---- OOD detection -----------------------------------------------------------------------

def test_auroc_of_a_perfect_separator_is_one_of_chance_one_half():
    s_in, s_out = np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0])
    assert auroc(s_in, s_out) == 1.0
    assert auroc(s_out, s_in) == 0.0  # OOD scored higher than real data: the paper's 0.0 for Glow
    assert auroc(np.ones(4), np.ones(4)) == 0.5
    assert auroc(np.array([1.0, 3.0]), np.array([2.0, 0.0])) == 0.75  # 3 of 4 pairs ordered
    fpr, tpr = roc(s_in, s_out)
    assert np.isclose(np.trapezoid(tpr, fpr), 1.0)


def test_ood_transforms_are_what_their_names_say():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(10, 1, 8, 8, generator=g)
    const = transform_set("constant_uniform", x, g)
    assert (const.flatten(1).std(1) == 0).all() and const.std() > 0.05
    shuffled = transform_set("shuffled", x, g)
    assert torch.equal(shuffled.flatten(1).sort(1).values, x.flatten(1).sort(1).values) and not torch.equal(shuffled, x)
    assert torch.allclose(transform_set("interpolation", x, g)[0], (x[0] + x[1]) / 2)
    assert torch.equal(transform_set("inverted", x, g), 1 - x)
    assert transform_set("uniform", x, g).shape == x.shape


def test_ood_scores_are_negative_energy_and_max_over_classes_for_a_conditional_model():
    protos = torch.stack([torch.full((1, 4, 4), 0.0), torch.full((1, 4, 4), 1.0)])
    x = torch.full((3, 1, 4, 4), 0.25)
    cond = ood_scores(Quadratic(protos), x, label_dim=2)
    assert torch.allclose(cond, -torch.full((3,), 16 * 0.25**2))  # the nearer class 0 wins
    uncond = Quadratic(protos[:1])
    assert torch.allclose(ood_scores(uncond, x), -uncond(x))


def test_the_ood_protocol_scores_each_set_against_the_held_out_images():
    from ebm.generalization.ood import run

    model = Quadratic(torch.zeros(1, 1, 4, 4))  # E(x) = |x|^2: dark images are "in distribution"
    x_in = torch.full((20, 1, 4, 4), 0.1)
    sets = [("bright", torch.full((20, 1, 4, 4), 0.9)), ("same", x_in.clone())]
    result = run(model, x_in, iter(sets))
    assert result.auroc == {"bright": 1.0, "same": 0.5}
    fpr, tpr = result.roc["bright"]
    assert fpr[-1] == tpr[-1] == 1.0
    m = result.metrics()
    assert m["auroc_mean"] == 0.75 and math.isnan(m["auroc_mean_paper_sets"])  # neither is one of the paper's sets
    assert m["score_mean"]["bright"] < m["score_in_mean"]


def test_torchvision_set_offline_fails_with_one_line(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetUnavailable) as e:
        load_torchvision_set("svhn", tmp_path, 4, (1, 8, 8))
    assert "svhn" in str(e.value) and "\n" not in str(e.value)


def test_textures_load_from_torchvisions_dtd_layout(tmp_path):
    from PIL import Image

    base = tmp_path / "dtd" / "dtd"
    (base / "labels").mkdir(parents=True)
    names = []
    for i, cls in enumerate(["banded", "dotted"]):
        (base / "images" / cls).mkdir(parents=True)
        arr = np.full((60, 90, 3), 60 + 120 * i, dtype=np.uint8)
        Image.fromarray(arr).save(base / "images" / cls / f"{cls}_0001.jpg")
        names.append(f"{cls}/{cls}_0001.jpg")
    (base / "labels" / "test1.txt").write_text("\n".join(names) + "\n")
    x = load_torchvision_set("textures", tmp_path, 2, (1, 8, 8), torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert sorted(x.flatten(1).mean(1).mul(255).round().tolist()) == pytest.approx([60, 180], abs=2)


# ---- robustness --------------------------------------------------------------------------

def linear_logits(w: torch.Tensor):
    return lambda x: x.flatten(1) @ w  # [B, D] @ [D, K]


def test_pgd_with_eps_zero_changes_nothing():
    x = torch.rand(4, 1, 8, 8)
    f = linear_logits(torch.randn(64, 3))
    for norm in ("linf", "l2"):
        assert torch.equal(pgd(f, x, torch.zeros(4, dtype=torch.long), 0.0, norm, 5, 0.25), x)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_stays_in_the_eps_ball_and_in_the_unit_box(norm):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 8, 8, generator=g)
    adv = pgd(linear_logits(torch.randn(64, 3, generator=g)), x, torch.zeros(8, dtype=torch.long), 0.3, norm, 7, 0.5, g)
    d = (adv - x).flatten(1)
    size = d.abs().max(1).values if norm == "linf" else d.norm(dim=1)
    assert (size <= 0.3 + 1e-5).all() and adv.min() >= 0 and adv.max() <= 1 and size.max() > 0.25


def test_pgd_linf_reaches_the_worst_case_margin_of_a_linear_classifier():
    # For logits x.w, the L-inf worst case lowers the margin (w_0 - w_1).x by exactly eps * ||w_0 - w_1||_1.
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 2, generator=g)
    x = torch.full((3, 1, 8, 8), 0.5)  # far from the [0, 1] walls
    eps = 0.05
    adv = pgd(linear_logits(w), x, torch.zeros(3, dtype=torch.long), eps, "linf", 20, 0.25, g)
    dw = w[:, 0] - w[:, 1]
    drop = (x.flatten(1) @ dw) - (adv.flatten(1) @ dw)
    assert torch.allclose(drop, torch.full((3,), eps * dw.abs().sum().item()), rtol=1e-3)


def test_l2_projection_is_onto_the_ball_around_the_original():
    x0 = torch.full((1, 1, 2, 2), 0.5)
    far = x0 + torch.tensor([0.4, 0.3, 0.0, 0.0]).view(1, 1, 2, 2)  # distance 0.5
    p = project(far, x0, 0.25, "l2")
    assert torch.isclose((p - x0).norm(), torch.tensor(0.25)) and torch.allclose(p - x0, (far - x0) / 2)


def test_energy_logits_put_each_class_in_its_column():
    protos = torch.stack([torch.full((1, 4, 4), v) for v in (0.1, 0.5, 0.9)])
    x = protos[torch.tensor([2, 0, 1, 1])]
    logits = energy_logits(Quadratic(protos), x, 3)
    assert logits.shape == (4, 3) and logits.argmax(1).tolist() == [2, 0, 1, 1]


def test_fit_calibration_removes_per_class_energy_offsets():
    # Tiny class evidence (0.01) under big per-class offsets: raw argmax always says class 2.
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (300,), generator=g)
    logits = torch.tensor([0.0, 0.05, 0.2]) + 0.01 * torch.nn.functional.one_hot(y, 3) \
        + 0.001 * torch.randn(300, 3, generator=g)
    assert (logits.argmax(1) == 2).all()
    scale, bias = fit_calibration(logits, y)
    assert ((scale * logits + bias).argmax(1) == y).float().mean() > 0.95


class LinearEnergy(torch.nn.Module):
    """E(x, k) = -x . w_k: its energy classifier is the linear classifier of ``w``."""

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x, y):
        return -(x.flatten(1) * self.w.T[y]).sum(1)


def test_the_robustness_sweep_attacks_each_classifier_and_loses_accuracy_with_eps():
    from ebm.generalization import RobustnessConfig
    from ebm.generalization.robustness_sweep import run as sweep

    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 3, generator=g)
    model = LinearEnergy(w)
    x = torch.rand(120, 1, 8, 8, generator=g)
    y = (x.flatten(1) @ w).argmax(1)  # the classifier's own labels: clean accuracy 1
    cfg = RobustnessConfig(linf_eps=(0.0, 0.3), l2_eps=(0.0,), pgd_steps=5, calibrate=False)
    seen = []
    tables = sweep(model, 3, (x, y), (x, y), cfg, LangevinConfig(n_steps=2), g, linear_logits(w),
                   on_point=lambda norm, row: seen.append((norm, row["eps"])))
    assert seen == [("linf", 0.0), ("linf", 0.3), ("l2", 0.0)]  # 120 images in chunks of 100, one row per eps
    clean, attacked = tables["linf"]
    assert set(clean) == {"eps", "ebm_plain", "ebm_refine", "classifier"}
    assert clean["ebm_plain"] == clean["classifier"] == 1.0 and tables["l2"][0]["ebm_plain"] == 1.0
    assert attacked["ebm_plain"] < 0.5 and attacked["classifier"] < 0.5


# ---- the four stages on a tiny workspace -------------------------------------------------

@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """data/digits, untrained models/{digits_cond,digits_uncond,classifier}, tiny params."""
    from ebm.data import load_digits, stratified_split
    from ebm.evaluation import SmallCNN
    from ebm.models import build_energy

    ws = tmp_path_factory.mktemp("generalization")
    x, y = load_digits()
    tr, te = stratified_split(y, 0.2, 0)
    (ws / "data/digits").mkdir(parents=True)
    for split, idx in (("train", tr[:100]), ("test", te[:60])):
        np.savez(ws / f"data/digits/{split}.npz", x=x[idx], y=y[idx])
    (ws / "data/digits/meta.json").write_text(json.dumps({"shape": [1, 8, 8], "n_classes": 10}))
    torch.manual_seed(0)
    for name, label_dim in (("digits_cond", 10), ("digits_uncond", 0)):
        (ws / "models" / name).mkdir(parents=True)
        torch.save(pack("energy", {"name": "digits_resnet", "in_channels": 1, "image_size": 8, "label_dim": label_dim},
                        build_energy("digits_resnet", 1, label_dim), dataset="digits"), ws / "models" / name / "model.pt")
    (ws / "models/classifier").mkdir()
    torch.save(pack("classifier", {"in_channels": 1, "n_classes": 10, "width": 4}, SmallCNN(1, 10, 4),
                    config={"width": 4}, dataset="digits"), ws / "models/classifier/model.pt")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["restore"] |= {"n_images": 6, "denoise_rounds": 1, "inpaint_rounds": 1, "n_steps": 2}
    params["crossclass"] |= {"n_images": 6, "rounds": 2, "n_steps": 2}
    params["ood"] |= {"n_images": 20}
    params["robustness"] |= {"n_images": 6, "linf_eps": [0.0, 0.1], "l2_eps": [0.5], "pgd_steps": 2, "n_steps": 2}
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return ws


def run_stage(ws: Path, name: str, monkeypatch) -> None:
    """The stage's main() in-process (imports once), in ``ws``, MLflow off (it warns and goes on)."""
    import argparse
    import importlib

    monkeypatch.chdir(ws)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unsupported-scheme://off")
    monkeypatch.delenv("DVC_ROOT", raising=False)
    importlib.import_module(f"stages.{name}").main(argparse.Namespace())


def test_the_four_stages_write_their_metrics_curves_and_figures(workspace, monkeypatch):
    for name in ("restore", "crossclass", "ood", "robustness"):
        run_stage(workspace, name, monkeypatch)
    m = json.loads((workspace / "metrics/restore/digits_cond.json").read_text())
    assert {"denoise_train", "denoise_test", "inpaint_train", "inpaint_test"} <= set(m)
    assert m["inpaint_test"]["mse_corrupted"] > 0 and 0 <= m["denoise_test"]["class_kept"] <= 1
    m = json.loads((workspace / "metrics/crossclass/digits_cond.json").read_text())
    assert m["steps"] == 4 and 0 <= m["new_label_share"] <= 1
    m = json.loads((workspace / "metrics/ood/digits_uncond.json").read_text())
    assert set(m["auroc"]) == {"uniform", "constant_uniform", "gaussian", "interpolation", "inverted", "shuffled"}
    m = json.loads((workspace / "metrics/robustness/digits_cond.json").read_text())
    assert set(m["linf"]) == {"ebm_plain", "ebm_refine", "classifier"} and set(m["l2"]["classifier"]) == {"eps_0.5"}
    for png in ("restore/digits_cond/inpaint_test.png", "crossclass/digits_cond/trajectories.png",
                "ood/digits_uncond/roc.png", "ood/digits_uncond/energy_histograms.png",
                "robustness/digits_cond/accuracy_vs_eps.png"):
        assert (workspace / "plots/images" / png).stat().st_size > 1000, png
    assert (workspace / "plots/robustness/digits_cond/linf.csv").read_text().startswith("eps,ebm_plain,ebm_refine")


@pytest.mark.parametrize("stage, patch, expect", [
    ("ood", {"sets": ["uniform", "mnist_c"]}, "ood.sets[1] = 'mnist_c'"),
    ("restore", {"variant": "digits_uncond"}, "restore.variant = 'digits_uncond': this experiment needs a conditional"),
    ("robustness", {"variant": "nope"}, "robustness.variant = 'nope': unknown variant"),
    ("crossclass", {"dataset": "cifar10"}, "crossclass.dataset = 'cifar10'"),
    ("robustness", {"linf_eps": [], "l2_eps": []}, "robustness.linf_eps and robustness.l2_eps are both empty"),
    ("robustness", {"attack": "fgsm"}, "robustness.attack = 'fgsm': unknown value"),
])
def test_bad_input_is_a_one_line_user_error(workspace, tmp_path, monkeypatch, stage, patch, expect):
    from stages.common.io import UserError

    for sub in ("data", "models"):
        os.symlink(workspace / sub, tmp_path / sub)
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    params[stage] |= patch
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.raises(UserError) as e:
        run_stage(tmp_path, stage, monkeypatch)
    assert expect in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "metrics").exists()  # nothing half-written


def test_a_stage_exits_2_with_one_line_on_a_missing_model(workspace, tmp_path):
    """The real entry point once: `python -m stages.ood` without the model it needs."""
    (tmp_path / "models").mkdir()
    os.symlink(workspace / "data", tmp_path / "data")
    (tmp_path / "params.yaml").write_text((workspace / "params.yaml").read_text())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": "unsupported-scheme://off"}
    r = subprocess.run([sys.executable, "-m", "stages.ood"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: models/digits_uncond/model.pt: missing checkpoint; run `dvc repro train@digits_uncond`"]
