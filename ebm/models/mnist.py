"""The original's MnistNet (openai/ebm_code_release), with label biases before each strided conv.

The original concatenates label planes, which breaks its own first conv; here the
label enters the way it does in the dSprites net: a per-label input bias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ebm.models.conditioning import LabelAffine, as_label_vector
from ebm.models.networks import NETWORKS
from ebm.models.resnet import activation
from ebm.models.spectral import SNConv2d, SNLinear


class MnistEnergy(nn.Module):
    def __init__(self, in_channels: int = 1, label_dim: int = 0, filters: int = 64, act: str = "lrelu"):
        super().__init__()
        f = filters
        self.label_dim, self.act = label_dim, activation(act)
        self.c1 = SNConv2d(in_channels, 64)
        widths = [(64, f), (f, 2 * f), (2 * f, 4 * f)]
        self.biases = nn.ModuleList(LabelAffine(label_dim, c_in) for c_in, _ in widths)
        self.convs = nn.ModuleList(SNConv2d(c_in, c_out, 4, 2, 0) for c_in, c_out in widths)
        self.fc = SNLinear(4 * 4 * 4 * f, 2 * f)
        self.head = nn.Linear(2 * f, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        y = as_label_vector(y, self.label_dim)
        h = self.act(self.c1(x))  # [B, 64, 28, 28]
        for bias, conv in zip(self.biases, self.convs):
            h = h + bias(y)[:, :, None, None]
            # TF 'SAME' for a 4x4 stride-2 conv pads 1 before and 1-2 after: 28->14->7->4
            pad_after = 2 if h.shape[-1] % 2 else 1
            h = self.act(conv(F.pad(h, (1, pad_after, 1, pad_after))))
        h = self.act(self.fc(h.flatten(1)))
        return self.head(h).squeeze(-1)


@NETWORKS.register("mnist")
def mnist(in_channels: int, label_dim: int = 0, image_size: int | None = None) -> MnistEnergy:
    return MnistEnergy(in_channels, label_dim)
