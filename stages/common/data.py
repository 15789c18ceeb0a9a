"""Loading the download stage's arrays, with one-line errors for missing or corrupt files."""

from __future__ import annotations

import json

import torch

from stages.common.io import UserError, load_npz
from stages.common.paths import dataset_dir


def load_split(name: str, split: str) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(x uint8 [N, C, H, W], y int64 [N], meta) of data/<name>/<split>.npz."""
    d = dataset_dir(name)
    fix = f"dvc repro download@{name}"
    arrays = load_npz(d / f"{split}.npz", f"{name} {split} split", fix, keys=("x", "y"))
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        raise UserError(f"{d / 'meta.json'}: missing or corrupt dataset metadata; run `{fix}`") from None
    x, y = arrays["x"], arrays["y"]
    if x.dtype.name != "uint8" or x.ndim != 4 or len(x) != len(y):
        raise UserError(f"{d / (split + '.npz')}: corrupt {name} {split} split (expected uint8 [N,C,H,W] and N labels); run `{fix}`")
    return torch.from_numpy(x), torch.from_numpy(y), meta
