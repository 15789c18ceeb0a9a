"""Faults that once gave a traceback or a silently wrong result now give one line naming the key or file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from stages.common.io import UserError, save_npz, save_torch
from stages.common.params import load_params
from stages.common.sections.full import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def default_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


# --- params --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p.update(train=[1, 2]), "train = [1, 2]: expected a mapping"),
        (lambda p: p.update(train="abc"), "train = 'abc': expected a mapping"),
        (lambda p: p.update(evaluate=[["n_reference", 50]]), "evaluate = [['n_reference', 50]]: expected a mapping"),
        (lambda p: p.update(fid=[1]), "fid = [1]: expected a mapping"),
        (lambda p: p.update(continual=[1]), "continual = [1]: expected a mapping"),
        (lambda p: p["variants"].update(digits_cond=[["network", "mlp"]]),
         "variants.digits_cond = [['network', 'mlp']]: expected a mapping"),
        (lambda p: p.update(seed=2**70), "seed = 1180591620717411303424: expected an integer in [0, 4294967295]"),
        (lambda p: p["train"].update(lr=float("inf")), "train.lr = inf: expected a finite number"),
        (lambda p: p["train"].update(step_size=float("inf")), "train.step_size = inf: expected a finite number"),
        (lambda p: p["train"].update(lr=float("nan")), "train.lr = nan: expected a finite number"),
        (lambda p: p["sample"].update(rounds=3, settle_rounds=4),
         "sample.settle_rounds = 4: must be <= sample.rounds (3)"),
    ],
)
def test_a_bad_section_or_value_is_one_line_naming_the_key(tmp_path, edit, expected):
    params = default_params()
    edit(params)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(UserError) as e:
        load_params(*SCHEMAS, path=tmp_path / "params.yaml")
    assert expected in one_line(e)


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    text = (ROOT / "params.yaml").read_text().splitlines()
    text.insert(3, "train: [unclosed")
    (tmp_path / "params.yaml").write_text("\n".join(text) + "\n")
    with pytest.raises(UserError) as e:
        load_params(*SCHEMAS, path=tmp_path / "params.yaml")
    assert "params.yaml: not valid YAML at line " in one_line(e)


# --- data ----------------------------------------------------------------------------------------

def fake_digits(root: Path, n: int = 12, shape=(1, 8, 8), labels=None, **meta_edit) -> Path:
    """data/digits with n random images per split and a meta.json as the download stage writes it."""
    d = root / "data" / "digits"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        y = np.arange(n) % 10 if labels is None else np.asarray(labels)
        save_npz(d / f"{split}.npz", x=rng.integers(0, 256, (n, *shape), dtype=np.uint8), y=y.astype(np.int64))
    meta = {"dataset": "digits", "sha256": "0" * 64, "shape": [1, 8, 8], "n_classes": 10, "n_train": n, "n_test": n}
    meta.update(meta_edit)
    (d / "meta.json").write_text(json.dumps(meta))
    return d


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda r: fake_digits(r, shape=(1, 16, 16)), "data/digits/train.npz: [12, 1, 16, 16] images contradict"),
        (lambda r: fake_digits(r, labels=[0] * 11 + [10]), "data/digits/train.npz: labels outside [0, 10)"),
        (lambda r: fake_digits(r, labels=[-1] + [0] * 11), "data/digits/train.npz: labels outside [0, 10)"),
        (lambda r: (fake_digits(r) / "meta.json").write_text("{}"), "data/digits/meta.json: corrupt dataset metadata"),
        (lambda r: (fake_digits(r) / "meta.json").write_text("[]"), "data/digits/meta.json: corrupt dataset metadata"),
    ],
)
def test_data_that_contradicts_its_meta_json_is_refused(tmp_path, monkeypatch, make, expected):
    from stages.common.data import load_split

    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    with pytest.raises(UserError) as e:
        load_split("digits", "train")
    assert expected in one_line(e)


def digits_with_param(tmp_path, monkeypatch, section: str, key: str, value) -> None:
    """A work dir with 12 fake digits and the default params but one value."""
    monkeypatch.chdir(tmp_path)
    fake_digits(tmp_path)
    params = default_params()
    params[section][key] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


def test_a_batch_larger_than_the_dataset_stops_before_the_mlflow_run(tmp_path, monkeypatch):
    import stages.train

    digits_with_param(tmp_path, monkeypatch, "train", "batch_size", 13)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    with pytest.raises(UserError) as e:
        stages.train.main(argparse.Namespace(variant="digits_uncond"))
    assert "train.batch_size = 13: larger than the 12 train images" in one_line(e)
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / ".resume").exists()


def test_n_reference_above_the_dataset_size_is_refused(tmp_path, monkeypatch):
    import stages.evaluate

    digits_with_param(tmp_path, monkeypatch, "evaluate", "n_reference", 1_000_000_000)
    with pytest.raises(UserError) as e:
        stages.evaluate.main(argparse.Namespace(variant="digits_uncond"))
    assert "evaluate.n_reference = 1000000000: more than the 12 digits train images" in one_line(e)


# --- checkpoints ---------------------------------------------------------------------------------

def energy_ckpt(**args) -> dict:
    from ebm.checkpoint import pack
    from ebm.models import build_energy

    ckpt = pack("energy", {"name": "digits_resnet", "in_channels": 1, "image_size": 8, "label_dim": 0},
                build_energy("digits_resnet", 1), dataset="digits", step=1)
    ckpt["args"].update(args)
    return ckpt


def nan_weights() -> dict:
    ckpt = energy_ckpt()
    first = next(k for k, v in ckpt["model"].items() if v.is_floating_point())
    ckpt["model"][first] = torch.full_like(ckpt["model"][first], float("nan"))
    return ckpt


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (lambda: torch.zeros(3), "corrupt checkpoint (not a checkpoint of this pipeline)"),
        (lambda: energy_ckpt(name="vgg"), "checkpoint names an unknown network 'vgg'"),
        (lambda: {**energy_ckpt(), "kind": "classifier"}, "not a checkpoint (kind 'classifier', expected 'energy')"),
        (lambda: energy_ckpt(label_dim=10), "corrupt checkpoint (RuntimeError)"),  # weights of another shape
        (nan_weights, "non-finite weights"),
    ],
)
def test_a_checkpoint_not_ours_or_diverged_is_one_line(tmp_path, content, expected):
    from stages.common.models import energy_from_checkpoint

    path = tmp_path / "model.pt"
    save_torch(path, content())
    with pytest.raises(UserError) as e:
        energy_from_checkpoint(path, "dvc repro train@v")
    assert str(path) in one_line(e) and expected in str(e.value)


def test_a_bare_tensor_as_the_classifier_is_one_line(tmp_path):
    from stages.common.models import classifier_from_checkpoint

    save_torch(tmp_path / "model.pt", torch.zeros(3))
    with pytest.raises(UserError, match="corrupt classifier checkpoint"):
        classifier_from_checkpoint(tmp_path / "model.pt")


# --- MLflow --------------------------------------------------------------------------------------

def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("uri", ["sqlite:///{tmp}", "sqlite:///{tmp}/missing/mlflow.db", "http://127.0.0.1:{port}"])
def test_an_unusable_tracking_uri_warns_once_and_fast(tmp_path, uri):
    import os
    import subprocess
    import sys
    import time

    script = ("from stages.common.tracking import StageRun\n"
              "r = StageRun('probe', None, {'a': 1}); r.log_metrics({'m': 1.0}); r.end('FINISHED')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": uri.format(tmp=tmp_path, port=closed_port())}
    t = time.time()
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and time.time() - t < 30  # MLflow's own retries took minutes
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: MLflow tracking unavailable"), lines


# --- resume state --------------------------------------------------------------------------------

def test_a_second_training_of_the_same_variant_is_refused_while_the_first_runs(tmp_path, monkeypatch):
    import fcntl

    import stages.train

    monkeypatch.chdir(tmp_path)
    fake_digits(tmp_path)
    params = default_params()
    params["train"].update(batch_size=4, n_iters=1, history_every=1)  # old code: trains at once, over the lock
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    lock = tmp_path / ".resume" / "digits_uncond.lock"
    lock.parent.mkdir()
    with open(lock, "a") as held:  # the first run's lock
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(UserError) as e:
            stages.train.main(argparse.Namespace(variant="digits_uncond"))
    assert "another `python -m stages.train --variant digits_uncond` is running" in one_line(e)
    assert not (tmp_path / "models").exists() and not (tmp_path / ".resume" / "digits_uncond").exists()


def resume_dir(tmp_path, monkeypatch):
    from stages.common.resume import ResumeDir

    monkeypatch.chdir(tmp_path)
    work = ResumeDir("v", "key")
    assert work.load() is None  # fresh: creates history/
    save_torch(work.history / "step_000010.pt", energy_ckpt())
    work.save({"step": 10})
    return work


def test_a_truncated_history_checkpoint_is_never_resumed_from(tmp_path, monkeypatch):
    work = resume_dir(tmp_path, monkeypatch)
    f = work.history / "step_000010.pt"
    f.write_bytes(f.read_bytes()[:100])
    assert work.load() is None  # starts from scratch rather than ship the broken file in models/<v>/history
    assert list(work.history.iterdir()) == []


def test_a_temporary_file_left_in_the_history_is_dropped_on_resume(tmp_path, monkeypatch):
    work = resume_dir(tmp_path, monkeypatch)
    (work.history / ".step_000020.pt.tmp12345").write_bytes(b"half")  # killed mid-write
    assert work.load()["step"] == 10
    assert [p.name for p in work.history.iterdir()] == ["step_000010.pt"]


def test_the_resume_fingerprint_changes_with_the_code(tmp_path, monkeypatch):
    import shutil

    import stages.common.resume as resume

    for pkg in ("ebm", "stages"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(resume, "CODE", tmp_path)
    before = resume.fingerprint({"train.lr": 1}, "data", 1)
    with open(tmp_path / "ebm" / "training" / "loss.py", "a") as f:
        f.write("\n# an edit\n")
    assert resume.fingerprint({"train.lr": 1}, "data", 1) != before


def test_finish_copies_only_the_history_checkpoints_into_the_outputs(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from stages.common.launch import NullRun
    from stages.train import finish

    work = resume_dir(tmp_path, monkeypatch)
    (work.history / ".step_000020.pt.tmp12345").write_bytes(b"half")  # a kill of this run's own history write
    trainer = SimpleNamespace(last_negatives=torch.rand(4, 1, 8, 8))
    rows = [{"step": 10, "loss": 0.0, "e_pos": 0.0, "e_neg": 0.0}]
    finish("v", trainer, work, energy_ckpt(), rows, [], NullRun(), {})
    assert [p.name for p in (tmp_path / "models" / "v" / "history").iterdir()] == ["step_000010.pt"]
