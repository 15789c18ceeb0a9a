"""Per-class (or per-label-vector) channel biases and gains, as in the original.

``b[y] = y @ B`` with ``y`` a one-hot or continuous label vector [B, L]. A model
built with ``label_dim = 0`` is unconditional and uses one shared vector.
"""

from __future__ import annotations

import torch
from torch import nn


class LabelAffine(nn.Module):
    """A [C] channel vector chosen by the label: shape [B, C] (or [1, C] unconditional)."""

    def __init__(self, label_dim: int, channels: int, init: float = 0.0):
        super().__init__()
        self.label_dim = label_dim
        self.weight = nn.Parameter(torch.full((max(label_dim, 1), channels), float(init)))
        self._cache: tuple | None = None  # (y, versions, y @ W) of the last frozen call

    def forward(self, y: torch.Tensor | None) -> torch.Tensor:
        if self.label_dim == 0 or y is None:
            return self.weight[:1]
        w = self.weight
        if w.requires_grad or y.requires_grad or torch.compiler.is_compiling():
            return y @ w
        # Frozen weights (a Langevin chain): every step asks for the same label's vector, so it is computed
        # once. The cache holds y itself, so another tensor can never take its place at the same address.
        versions = (w.data_ptr(), w._version, y._version)
        if self._cache is None or self._cache[0] is not y or self._cache[1] != versions:
            self._cache = (y, versions, y @ w)
        return self._cache[2]


def as_label_vector(y: torch.Tensor | None, label_dim: int) -> torch.Tensor | None:
    """Integer class labels -> one-hot floats; float label vectors pass through."""
    if y is None or label_dim == 0:
        return None
    if y.dtype in (torch.int64, torch.int32, torch.uint8):
        return torch.nn.functional.one_hot(y.long(), label_dim).float()
    return y.float()
