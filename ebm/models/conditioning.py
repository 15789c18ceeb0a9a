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

    def forward(self, y: torch.Tensor | None) -> torch.Tensor:
        if self.label_dim == 0 or y is None:
            return self.weight[:1]
        return y @ self.weight


def as_label_vector(y: torch.Tensor | None, label_dim: int) -> torch.Tensor | None:
    """Integer class labels -> one-hot floats; float label vectors pass through."""
    if y is None or label_dim == 0:
        return None
    if y.dtype in (torch.int64, torch.int32, torch.uint8):
        return torch.nn.functional.one_hot(y.long(), label_dim).float()
    return y.float()
