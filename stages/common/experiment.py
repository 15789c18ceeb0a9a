"""What the generalisation stages (restore, crossclass, ood, robustness) share:
the device and model named by ``<section>``, a fixed subset of a split, the digits judge."""

from __future__ import annotations

import torch
from torch import nn

from ebm.accel import resolve_device
from ebm.data import dequantize
from stages.common.data import load_split
from stages.common.io import UserError, load_torch
from stages.common.models import classifier_from_checkpoint, energy_from_checkpoint
from stages.common.paths import classifier_dir, model_dir


def experiment_device(params: dict, section: str) -> torch.device:
    try:
        return resolve_device(params[section][0].device)
    except ValueError as e:
        raise UserError(f"{section}.{e}") from None


def experiment_model(params: dict, section: str, device: torch.device,
                     conditional: bool | None = None) -> tuple[nn.Module, dict]:
    """The final checkpoint of ``params[section].variant`` on ``device``, in eval mode with frozen weights."""
    exp = params[section][0]
    name = exp.variant
    if name not in params["variants"]:
        raise UserError(f"{section}.variant = {name!r}: unknown variant (defined: {', '.join(params['variants'])})")
    model, ckpt = energy_from_checkpoint(model_dir(name) / "model.pt", f"dvc repro train@{name}")
    if conditional is not None and bool(ckpt["label_dim"]) != conditional:
        kind = "a conditional" if conditional else "an unconditional"
        raise UserError(f"{section}.variant = {name!r}: this experiment needs {kind} model")
    if ckpt["dataset"] != exp.dataset:
        raise UserError(f"{section}.dataset = {exp.dataset!r}: variant {name!r} was trained on {ckpt['dataset']!r}")
    return model.requires_grad_(False).to(device), ckpt


def subset(dataset: str, split: str, n: int | None, seed: int,
           device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """n random images of a split (all if None or fewer), fixed by ``seed``, as floats in [0, 1] with labels."""
    x, y, _ = load_split(dataset, split)
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return dequantize(x[idx], noise=False).to(device), y[idx].to(device)


def judge(dataset: str, device: torch.device) -> nn.Module | None:
    """The pipeline's classifier if it was trained on ``dataset`` (digits), else None."""
    path = classifier_dir() / "model.pt"
    clf = classifier_from_checkpoint(path)
    trained_on = load_torch(path, "classifier checkpoint", "dvc repro classifier").get("dataset")
    return clf.requires_grad_(False).to(device) if trained_on == dataset else None
