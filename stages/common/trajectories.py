"""What the trajectory models' stages (train_traj, evaluate_traj) share: the recorded arrays and the model
checkpoints (their params section: stages/common/sections/trajectories.py)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import torch
from torch import nn

from ebm.checkpoint import pack
from ebm.trajectories.data import Coder
from stages.common.io import UserError, load_npz
from stages.common.models import NOT_OURS, model_from_checkpoint
from stages.common.paths import trajectories_dir, trajectory_model


# --- data ---

def load_trajectories() -> tuple[dict[str, torch.Tensor], dict]:
    """({"train": states [N, T+1, 31], "test": ...}, meta) from the record stage."""
    path, fix = trajectories_dir() / "trajectories.npz", "dvc repro record"
    arrays = load_npz(path, "hand trajectories", fix, keys=("train_states", "test_states"))
    try:
        meta = json.loads((trajectories_dir() / "meta.json").read_text())
    except (OSError, ValueError):
        raise UserError(f"{trajectories_dir() / 'meta.json'}: missing or corrupt trajectory metadata; run `{fix}`") from None
    out = {}
    for split in ("train", "test"):
        s = arrays[f"{split}_states"]
        if s.ndim != 3 or s.shape[0] == 0 or not np.isfinite(s).all():
            raise UserError(f"{path}: corrupt hand trajectories ({split}_states {s.shape}, expected [N>0, T+1, D] "
                            f"finite); run `{fix}`")
        out[split] = torch.from_numpy(s.astype(np.float32))
    return out, meta


# --- checkpoints ---

def checkpoint(name: str, model: nn.Module, coder: Coder, k: int, arch, extra: dict | None = None) -> dict:
    """Self-describing: the evaluate stage rebuilds the model and its coordinates from this alone."""
    return pack("trajectory_model", {"name": name, "dim": coder.dim, "k": k, "arch": asdict(arch)}, model,
                coder=coder.state_dict(), context=k, **(extra or {}))


def load_model(name: str) -> tuple[nn.Module, Coder, dict]:
    path = trajectory_model(name) / "model.pt"
    fix = f"dvc repro train_traj@{name}"
    model, info = model_from_checkpoint(path, f"{name} trajectory model", fix, "trajectory_model")
    try:
        coder = Coder(**info["coder"])
    except NOT_OURS as e:
        raise UserError(f"{path}: corrupt checkpoint ({type(e).__name__}); run `{fix}`") from None
    return model.requires_grad_(False), coder, info
