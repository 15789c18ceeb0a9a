"""A crafted pickle where the pipeline expects a checkpoint never runs its payload.

Each kind of file the stages load gets a torch file whose unpickling would create a
marker file; loading must refuse it with one line naming the file (or, for a
resume state, start from scratch), and the marker must not appear.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from stages.common.io import UserError

MARKER = "payload_ran"


class Payload:
    def __reduce__(self):
        return (os.mkdir, (MARKER,))  # runs on unpickling if anything unpickles freely


def plant(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Payload(), "network": "digits_resnet"}, path)
    return path


def loaders():
    from stages.common.composition import factor_from_checkpoint, judge_from_checkpoint
    from stages.common.models import classifier_from_checkpoint, energy_from_checkpoint
    from stages.common.trajectories import load_model

    return {
        "models/digits_cond/model.pt": lambda p: energy_from_checkpoint(p, "dvc repro train@digits_cond"),
        "models/digits_cond/history/step_000050.pt": lambda p: energy_from_checkpoint(p, "dvc repro train@digits_cond"),
        "models/classifier/model.pt": classifier_from_checkpoint,
        "models/trajectories/fc/model.pt": lambda p: load_model("fc"),
        "models/composition/factor_size/model.pt": lambda p: factor_from_checkpoint("size"),
        "models/composition/judge/model.pt": lambda p: judge_from_checkpoint(),
    }


@pytest.mark.parametrize("rel", list(loaders()))
def test_a_planted_payload_is_refused_not_run(rel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = plant(tmp_path / rel)
    with pytest.raises(UserError) as e:
        loaders()[rel](Path(rel))
    assert not (tmp_path / MARKER).exists(), f"loading {rel} ran the payload"
    assert rel in str(e.value) and "\n" not in str(e.value)
    assert path.exists()


def test_a_planted_resume_state_starts_from_scratch(tmp_path, monkeypatch):
    from stages.common.resume import ResumeDir

    monkeypatch.chdir(tmp_path)
    plant(tmp_path / ".resume" / "digits_cond" / "state.pt")
    assert ResumeDir("digits_cond", "key").load() is None
    assert not (tmp_path / MARKER).exists()


def test_planted_inception_weights_are_refused(tmp_path, monkeypatch):
    from stages.common.fid import inception_network

    monkeypatch.chdir(tmp_path)
    plant(tmp_path / "weights.pth")
    with pytest.raises(UserError, match="weights.pth: refused"):
        inception_network(str(tmp_path / "weights.pth"))
    assert not (tmp_path / MARKER).exists()


def test_a_real_checkpoint_still_loads(tmp_path, monkeypatch):
    from ebm.models import build_energy
    from stages.common.models import energy_from_checkpoint

    monkeypatch.chdir(tmp_path)
    from ebm.checkpoint import pack

    model = build_energy("digits_resnet", 1, 10, 8)
    torch.save(pack("energy", {"name": "digits_resnet", "in_channels": 1, "image_size": 8, "label_dim": 10}, model,
                    dataset="digits", step=1, variant={"conditional": True}), "m.pt")
    loaded, ckpt = energy_from_checkpoint(Path("m.pt"), "fix")
    assert ckpt["step"] == 1 and ckpt["label_dim"] == 10 and sum(p.numel() for p in loaded.parameters()) > 0
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())
