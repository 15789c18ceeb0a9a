"""Self-describing checkpoints: everything needed to rebuild a model from its file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ebm.checkpoint import pack, unpack
from ebm.evaluation import SmallCNN
from ebm.models import NETWORKS
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


def model_from_checkpoint(path: Path, what: str, fix: str, kind: str) -> tuple[nn.Module, dict]:
    """The one loader of every model file the pipeline writes (``ebm.checkpoint.pack``): the network, eval mode,
    and what the file says about it (its builder's arguments and its metadata, one flat dict)."""
    ckpt = load_checkpoint(path, what, fix)
    if ckpt.get("kind") != kind:
        raise UserError(f"{path}: not a {what} (kind {ckpt.get('kind')!r:.40}, expected {kind!r}); run `{fix}`")
    try:
        info = {**ckpt["args"], **{k: v for k, v in ckpt.items() if k not in ("kind", "args", "model")}}
        if kind == "energy" and info["name"] not in NETWORKS:
            raise UserError(f"{path}: checkpoint names an unknown network {info['name']!r:.40} "
                            f"(known: {', '.join(NETWORKS)}); run `{fix}`")
        return unpack(ckpt), info
    except NOT_OURS as e:
        raise UserError(f"{path}: corrupt {what} ({type(e).__name__}); run `{fix}`") from None


def energy_checkpoint(model: nn.Module, var, meta: dict, step: int) -> dict:
    """What train@ writes for an image EBM (the final model and each history checkpoint; weights on the CPU):
    its network's builder arguments, so ``energy_from_checkpoint`` rebuilds it from the file alone.
    var: the variant (``variants.<v>``), meta: its dataset's meta.json."""
    args = {"name": var.network, "in_channels": meta["shape"][0], "image_size": meta["shape"][-1],
            "label_dim": meta["n_classes"] if var.conditional else 0}
    return pack("energy", args, model, dataset=var.dataset, step=step, variant=asdict(var))


def energy_from_checkpoint(path: Path, fix: str) -> tuple[nn.Module, dict]:
    return model_from_checkpoint(path, "checkpoint", fix, "energy")


def classifier_from_checkpoint(path: Path) -> SmallCNN:
    return model_from_checkpoint(path, "classifier checkpoint", "dvc repro classifier", "classifier")[0]
