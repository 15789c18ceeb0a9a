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
    if not (isinstance(meta, dict) and isinstance(meta.get("shape"), list) and isinstance(meta.get("n_classes"), int)):
        raise UserError(f"{d / 'meta.json'}: corrupt dataset metadata (expected its shape and n_classes); run `{fix}`")
    x, y = arrays["x"], arrays["y"]
    file = d / f"{split}.npz"
    if x.dtype.name != "uint8" or x.ndim != 4 or len(x) != len(y) or y.dtype.kind not in "iu":
        raise UserError(f"{file}: corrupt {name} {split} split (expected uint8 [N,C,H,W] and N integer labels); "
                        f"run `{fix}`")
    # The arrays must be those meta.json describes (its shape and counts feed the models and the metrics).
    n = meta.get(f"n_{split}", len(x))
    if list(x.shape[1:]) != meta["shape"] or len(x) != n:
        raise UserError(f"{file}: {list(x.shape)} images contradict {d / 'meta.json'} ({n} x {meta['shape']}); "
                        f"run `{fix}`")
    if len(y) and not (0 <= y.min() and y.max() < meta["n_classes"]):
        raise UserError(f"{file}: labels outside [0, {meta['n_classes']}) of {d / 'meta.json'}; run `{fix}`")
    return torch.from_numpy(x), torch.from_numpy(y), meta
