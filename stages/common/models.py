"""Self-describing checkpoints: everything needed to rebuild a model from its file."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ebm.evaluation import SmallCNN
from ebm.models import build_energy
from stages.common.io import UserError, load_torch


def energy_from_checkpoint(path: Path, fix: str) -> tuple[nn.Module, dict]:
    ckpt = load_torch(path, "checkpoint", fix)
    try:
        model = build_energy(ckpt["network"], ckpt["in_channels"], ckpt["label_dim"], ckpt.get("image_size"))
        model.load_state_dict(ckpt["model"])
    except (KeyError, RuntimeError, TypeError) as e:
        raise UserError(f"{path}: corrupt checkpoint ({type(e).__name__}); run `{fix}`") from None
    model.eval()
    return model, ckpt


def classifier_from_checkpoint(path: Path) -> SmallCNN:
    fix = "dvc repro classifier"
    ckpt = load_torch(path, "classifier checkpoint", fix)
    try:
        model = SmallCNN(ckpt["in_channels"], ckpt["n_classes"], ckpt["config"]["width"])
        model.load_state_dict(ckpt["model"])
    except (KeyError, RuntimeError, TypeError) as e:
        raise UserError(f"{path}: corrupt classifier checkpoint ({type(e).__name__}); run `{fix}`") from None
    return model.eval()
