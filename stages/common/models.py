"""Self-describing checkpoints: everything needed to rebuild a model from its file."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ebm.evaluation import SmallCNN
from ebm.models import NETWORKS, build_energy
from stages.common.io import UserError, load_torch


# What a checkpoint that is not this pipeline's (a bare tensor, other keys or shapes) raises on rebuilding.
NOT_OURS = (KeyError, RuntimeError, TypeError, ValueError, IndexError, AttributeError)


def load_checkpoint(path: Path, what: str, fix: str) -> dict:
    """A checkpoint dict whose weights are all finite; one line naming the file otherwise."""
    ckpt = load_torch(path, what, fix)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise UserError(f"{path}: corrupt {what} (not a checkpoint of this pipeline); run `{fix}`")
    bad = [k for k, v in ckpt["model"].items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:  # a diverged model: its samples and features would be NaN
        raise UserError(f"{path}: non-finite weights ({bad[0]}) in {what}; run `{fix}`")
    return ckpt


def energy_from_checkpoint(path: Path, fix: str) -> tuple[nn.Module, dict]:
    ckpt = load_checkpoint(path, "checkpoint", fix)
    if ckpt.get("network") not in NETWORKS:
        raise UserError(f"{path}: checkpoint names an unknown network {ckpt.get('network')!r:.40} "
                        f"(known: {', '.join(NETWORKS)}); run `{fix}`")
    try:
        model = build_energy(ckpt["network"], ckpt["in_channels"], ckpt["label_dim"], ckpt.get("image_size"))
        model.load_state_dict(ckpt["model"])
    except NOT_OURS as e:
        raise UserError(f"{path}: corrupt checkpoint ({type(e).__name__}); run `{fix}`") from None
    model.eval()
    return model, ckpt


def classifier_from_checkpoint(path: Path) -> SmallCNN:
    fix = "dvc repro classifier"
    ckpt = load_checkpoint(path, "classifier checkpoint", fix)
    try:
        model = SmallCNN(ckpt["in_channels"], ckpt["n_classes"], ckpt["config"]["width"])
        model.load_state_dict(ckpt["model"])
    except NOT_OURS as e:
        raise UserError(f"{path}: corrupt classifier checkpoint ({type(e).__name__}); run `{fix}`") from None
    return model.eval()
