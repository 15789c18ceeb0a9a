"""Bad params fail before any work, with one line naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stages.common.io import UserError
from stages.common.params import load_params, variant
from stages.common.sections.full import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def default_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def write(tmp_path, params) -> Path:
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params))
    return p


def test_the_default_params_are_valid():
    params = load_params(*SCHEMAS, path=ROOT / "params.yaml")
    assert set(params["variants"]) >= {"digits_uncond", "digits_cond"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p["train"].update(step_sise=10), "train.step_sise: unknown key"),
        (lambda p: p["train"].update(step_size=-1), "train.step_size = -1: must be > 0"),
        (lambda p: p["train"].update(n_iters="many"), "train.n_iters = 'many': expected an integer"),
        (lambda p: p["train"].update(lr="fast"), "train.lr = 'fast': expected a number"),
        (lambda p: p["train"].update(form="euler"), "train.form = 'euler': unknown value (allowed: decoupled, textbook)"),
        (lambda p: p["train"].update(replay_prob=1.5), "train.replay_prob = 1.5: must be <= 1"),
        (lambda p: p["variants"]["digits_cond"].update(network="vgg"), "variants.digits_cond.network = 'vgg': unknown network"),
        (lambda p: p["download"].update(datasets=["imagenet"]), "download.datasets[0] = 'imagenet': unknown dataset"),
        (lambda p: p.update(trian={}), "trian: unknown section"),
        (lambda p: p.update(seed=-3), "seed = -3"),
        (lambda p: p["crossclass"].update(noise_sweep=[0.01, -0.02]), "crossclass.noise_sweep[1] = -0.02: must be"),
        (lambda p: p["factors"].update(label_contrast=-1), "factors.label_contrast = -1: must be >= 0"),
    ],
)
def test_bad_values_name_the_key(tmp_path, edit, expected):
    params = default_params()
    edit(params)
    with pytest.raises(UserError) as e:
        load_params(*SCHEMAS, path=write(tmp_path, params))
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_unknown_variant_lists_the_defined_ones():
    with pytest.raises(UserError, match="variants.nope: unknown variant .defined: digits_uncond, digits_cond"):
        variant(load_params(*SCHEMAS, path=ROOT / "params.yaml"), "nope")


def test_a_stage_exits_non_zero_with_one_line_and_writes_nothing(tmp_path):
    params = default_params()
    params["train"]["step_size"] = -1
    write(tmp_path, params)
    r = subprocess.run([sys.executable, "-m", "stages.train", "--variant", "digits_uncond"], cwd=tmp_path,
                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: params.yaml: train.step_size = -1: must be > 0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_known_sections_are_the_schema_modules_sections_in_order():
    from stages.common.params import KNOWN

    assert list(KNOWN) == ["seed", *[name for schema in SCHEMAS for name in schema]]


def test_a_stage_checks_only_the_sections_it_reads_but_refuses_unknown_ones(tmp_path):
    params = default_params()
    params["trajectory"]["context"] = 0  # another experiment's mistake: that experiment's stage reports it
    from stages.common.sections import images

    assert load_params(images.SECTIONS, path=write(tmp_path, params))["train"]
    with pytest.raises(UserError, match="trajectory.context = 0"):
        load_params(*SCHEMAS, path=write(tmp_path, params))
    params["trian"] = {}
    with pytest.raises(UserError, match="trian: unknown section"):
        load_params(images.SECTIONS, path=write(tmp_path, params))


def test_check_params_finds_a_bad_value_in_any_section_at_once(tmp_path):
    """`make run` starts with it: a late stage's bad value stops the run before the early stages train."""
    params = default_params()
    params["trajectory"]["ebm_cond"]["lr"] = -1
    write(tmp_path, params)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path, capture_output=True, text=True,
                       env=env)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: params.yaml: trajectory.ebm_cond.lr = -1: must be > 0"]
    ok = subprocess.run([sys.executable, "-m", "stages.check_params", str(ROOT / "params.yaml")], capture_output=True,
                        text=True, env=env)
    assert ok.returncode == 0 and "sections valid" in ok.stdout


def _leaves(d: dict, path: tuple = ()):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _leaves(v, (*path, k))
        else:
            yield (*path, k)


def test_deleting_any_key_is_an_error_naming_it_never_a_silent_library_default():
    """A key left out of params.yaml must not switch to a library default (often the paper-scale value)."""
    import copy

    from ebm.config import ConfigError
    from stages.common.params import SHARED, check_sections

    raw = default_params()
    base = repr(check_sections(raw, *SCHEMAS))
    overrides = {f"{section}.{key}" for section, _, keys in SHARED for key in keys}  # fid.grad_clip: train's if unset
    unchanged = []
    for path in _leaves(raw):
        if path[:2] == ("factors", "per_factor") or ".".join(path) in overrides:
            continue  # an override: deleting it gives the shared value written elsewhere
        edited = copy.deepcopy(raw)
        parent = edited
        for k in path[:-1]:
            parent = parent[k]
        del parent[path[-1]]
        try:
            configs = check_sections(edited, *SCHEMAS)
        except ConfigError as e:
            assert str(e).startswith(".".join(path) + ": missing"), (path, str(e))
            continue
        assert repr(configs) == base, f"{'.'.join(path)}: deleting it silently changes the configs"
        unchanged.append(".".join(path))
    assert set(unchanged) <= {"seed", "fid.variants"}  # their defaults are the file's values: 0 and {}


def test_a_missing_key_names_itself_and_the_library_keeps_its_defaults(tmp_path):
    from ebm.config import build
    from ebm.sampling import LangevinConfig

    params = default_params()
    del params["train"]["n_steps"]
    with pytest.raises(UserError, match=r"train.n_steps: missing .*default 60"):
        load_params(*SCHEMAS, path=write(tmp_path, params))
    assert build(LangevinConfig, {}).n_steps == 60  # outside a params file the defaults still fill in



def flat(d: dict, prefix: str = "") -> dict:
    return {k2: v2 for k, v in d.items()
            for k2, v2 in (flat(v, f"{prefix}{k}.").items() if isinstance(v, dict) else [(f"{prefix}{k}", v)])}


def test_dvc_exp_run_set_param_changes_that_key_only(tmp_path):
    """`dvc exp run -S train.step_size=5 -S ++sample.step_size=7` rewrites params.yaml through DVC's Hydra
    overrides (ruamel round trip): every other value must come back unchanged, and the test-time stages that
    leave the step out read train's. Why the shared settings are filled in by our loader, not written as
    YAML anchors (`<<: *langevin`): this rewrite copies every merged key into every section that merges it,
    so the next change to the anchor would no longer reach them (README, "Everyday use")."""
    from dvc.utils.hydra import apply_overrides

    from stages.common.params import check_sections

    p = tmp_path / "params.yaml"
    p.write_text((ROOT / "params.yaml").read_text())
    apply_overrides(p, ["train.step_size=5", "++sample.step_size=7"])
    after = flat(yaml.safe_load(p.read_text()))
    before = flat(default_params())
    assert {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
            if before.get(k) != after.get(k)} == {"train.step_size": (10.0, 5), "sample.step_size": (None, 7)}
    configs = check_sections(yaml.safe_load(p.read_text()), *SCHEMAS)
    assert configs["train"][1].step_size == 5 and configs["sample"][1].step_size == 7  # its own
    assert configs["restore"][2].step_size == 5 and configs["robustness"][2].step_size == 5  # train's


def test_shared_settings_are_written_once_and_read_where_a_section_leaves_them_out():
    from dataclasses import fields

    from ebm.accel import AccelConfig
    from ebm.config import ConfigError
    from stages.common.params import _ACCEL, SHARED, check_sections

    raw = default_params()
    configs = check_sections(raw, *SCHEMAS)
    train_chain = configs["train"][1]
    for section in ("sample", "fid", "restore", "crossclass", "robustness"):
        langevin = next(c for c in configs[section] if type(c) is type(train_chain))
        assert (langevin.step_size, langevin.noise_std) == (train_chain.step_size, train_chain.noise_std), section
        assert section not in raw or "step_size" not in raw[section]  # written once, in train
    assert configs["fid"][4].grad_clip == 0.05 != train_chain.grad_clip  # a section's own value wins
    assert configs["compose"][-1].step_size == raw["factors"]["step_size"] and "step_size" not in raw["compose"]
    assert list(_ACCEL) == [f.name for f in fields(AccelConfig)]
    assert {s for s, src, _ in SHARED if src == "device"} == {"train", "sample", "fid", "restore", "crossclass",
                                                               "ood", "robustness"}
    for edit, message in [(("device", "amp", "fp16"), "device.amp = 'fp16'"),  # named where it is written
                          (("train", "noise_std", -1), "train.noise_std = -1"),
                          (("device", "chanels_last", True), "device.chanels_last: unknown key")]:
        bad = default_params()
        bad[edit[0]][edit[1]] = edit[2]
        with pytest.raises(ConfigError) as e:
            check_sections(bad, *SCHEMAS)
        assert str(e.value).startswith(message), str(e.value)


def test_every_stage_declares_the_shared_keys_its_sections_read():
    """dvc.yaml must list, beside a section, the keys that section reads from another (params.SHARED), or
    changing `train.noise_std` would leave `sample@` marked up to date."""
    from stages.common.params import SHARED

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        declared = {str(p).split(".${")[0].strip('"') for p in stage.get("params", [])}
        for section, source, keys in SHARED:
            if section in declared:
                missing = [f"{source}.{k}" for k in keys if source not in declared and f"{source}.{k}" not in declared]
                assert not missing, f"{name} reads {section}, so it must declare {missing} (params.SHARED)"
