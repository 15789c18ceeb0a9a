"""What sample@ and fid@ start from: their section's device and the variant's trained models (train@)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ebm.accel import resolve_device
from stages.common.io import UserError
from stages.common.models import energy_from_checkpoint
from stages.common.paths import history_dir, model_dir


def section_device(section: str, name: str) -> torch.device:
    """The ``<section>.device`` param as a torch.device; a bad one is a UserError naming the param."""
    try:
        return resolve_device(name)
    except ValueError as e:
        raise UserError(f"{section}.{e}") from None


def final_model(variant: str, need_history: bool) -> tuple[nn.Module, dict, list[Path]]:
    """The variant's final model, what its checkpoint says, and its history checkpoints (oldest first); with
    ``need_history``, none is an error (the ensemble is rebuilt from them)."""
    fix = f"dvc repro train@{variant}"
    model, ckpt = energy_from_checkpoint(model_dir(variant) / "model.pt", fix)
    history = sorted(history_dir(variant).glob("step_*.pt"))
    if need_history and not history:
        raise UserError(f"{history_dir(variant)}: no history checkpoints for the ensemble; run `{fix}`")
    return model, ckpt, history


def history_models(variant: str, history: list[Path]) -> list[nn.Module]:
    return [energy_from_checkpoint(p, f"dvc repro train@{variant}")[0] for p in history]


def image_shape(ckpt: dict) -> tuple[int, int, int]:
    return (ckpt["in_channels"], ckpt["image_size"], ckpt["image_size"])
