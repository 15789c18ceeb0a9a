"""MLP energies for vectors: 2-D points, hand states, flattened digits."""

from __future__ import annotations

import torch
from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.models.conditioning import LabelAffine, as_label_vector
from ebm.models.networks import NETWORKS
from ebm.models.resnet import activation
from ebm.models.spectral import SNLinear


@BUILDERS.register("mlp_energy")
class MLPEnergy(nn.Module):
    """E(x, y) for x: [B, D]; the label enters as a bias on every hidden layer and, with ``label_gain``,
    also as a gain: act(W h · (1 + g(y)) + b(y)), the original's label-dependent gain (DspritesNet has one on
    a conv layer) on every layer. The gains start at 0, so a new model is the bias-only one."""

    def __init__(self, d_in: int, hidden: tuple[int, ...] = (400, 400), label_dim: int = 0,
                 act: str = "swish", spectral_norm: bool = True, label_gain: bool = False):
        super().__init__()
        self.label_dim, self.act = label_dim, activation(act)
        dims = (d_in, *hidden)
        linear = SNLinear if spectral_norm else nn.Linear
        self.layers = nn.ModuleList(linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.biases = nn.ModuleList(LabelAffine(label_dim, b) for b in hidden)
        self.gains = nn.ModuleList(LabelAffine(label_dim, b) for b in hidden) if label_gain else None
        self.head = nn.Linear(dims[-1], 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        y = as_label_vector(y, self.label_dim)
        h = x.flatten(1)
        for i, (layer, bias) in enumerate(zip(self.layers, self.biases)):
            pre = layer(h) if self.gains is None else layer(h) * (1 + self.gains[i](y))
            h = self.act(pre + bias(y))
        return self.head(h).squeeze(-1)


@NETWORKS.register("mlp")
def pixel_mlp(in_channels: int, label_dim: int = 0, image_size: int | None = None) -> MLPEnergy:
    """An MLP on the flattened image (the default 400-400 MLPEnergy)."""
    return MLPEnergy(in_channels * (image_size or 1) ** 2, label_dim=label_dim)
