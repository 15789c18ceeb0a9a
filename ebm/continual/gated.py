"""The label-specific energy of the continual EBM: a learned label embedding gates the hidden units.

After Li, Du, van de Ven & Mordatch (2020), ``network/ebm_layers.py`` (EBM_MLP) of
ShuangLI59/ebm-continual-learning: the first hidden layer's pre-activation ``a``
is gated per label, ``h = relu(a + a * normalize(emb[y]))``; the rest of the
MLP is shared. Our addition: the energy is only the label-specific part,

    E(x, y) = f(x, y) - f(x, none),   f(x, none) the same MLP with the gate off,

so a label-free "is this a digit" term cannot take part in the energy. Every
contrast the learner makes (labels of one image, images under one label) must
then be carried by the label's own gate, and that is what keeps an old label's
energy where its task left it (docs/continual.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GatedEnergy(nn.Module):
    """E(x, y) for x: [B, D] and a set of labels per image y: [B, L] -> [B, L]."""

    def __init__(self, d_in: int, hidden: tuple[int, ...], n_classes: int, gate_layers: int = 1):
        super().__init__()
        if not 1 <= gate_layers <= len(hidden):
            raise ValueError(f"gate_layers = {gate_layers}: must be in 1..{len(hidden)}")
        dims = (d_in, *hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.embed = nn.ModuleList(nn.Embedding(n_classes, b) for b in hidden[:gate_layers])
        self.head = nn.Linear(dims[-1], 1)

    def features(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Last hidden layer: [B, L, H] gated by the labels y [B, L], or [B, 1, H] ungated (y None)."""
        h = x[:, None, :]  # [B, 1, D], broadcast over the labels
        for i, layer in enumerate(self.layers):
            a = layer(h)
            if y is not None and i < len(self.embed):
                a = a * (1 + F.normalize(self.embed[i](y), dim=-1))  # [B, L, H]
            h = F.relu(a)
        return h

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        base = self.head(self.features(x, None)).squeeze(-1)  # [B, 1]
        return self.head(self.features(x, y)).squeeze(-1) - base  # [B, L]: the label-specific part only
