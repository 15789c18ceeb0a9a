"""The paper's residual energy networks (openai/ebm_code_release).

Block: biases on the inputs of each conv, class gains after the second conv,
3x3 skip conv when the width changes, average pooling after the addition,
leaky ReLU 0.2. Head: activation, global *sum* pool, linear to one energy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ebm.models.conditioning import LabelAffine, as_label_vector
from ebm.models.networks import NETWORKS
from ebm.models.spectral import SNConv2d


def activation(name: str):
    if name == "lrelu":
        return lambda x: F.leaky_relu(x, 0.2)
    if name == "swish":
        return F.silu
    if name == "relu":
        return F.relu
    raise ValueError(f"unknown activation {name!r}")


def dropout(h: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout``, with CPU masks drawn as random bytes (p rounded to 1/256).

    On a CPU ``bernoulli_`` draws one float per element: at ResNet32Large's 128x128x16x16 maps
    F.dropout's forward + backward took 76 ms, these masks 25 ms (about 7% of a training-chain step).
    """
    if not training or p == 0 or h.is_cuda:
        return F.dropout(h, p, training)
    keep = torch.empty(h.shape, dtype=torch.uint8, device=h.device).random_() >= round(p * 256)
    return h * keep.to(h.dtype).mul_(1 / (1 - p))


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out, label_dim, downsample, act, dropout=0.0):
        super().__init__()
        self.b1 = LabelAffine(label_dim, c_in)
        self.conv1 = SNConv2d(c_in, c_out)
        self.b2 = LabelAffine(label_dim, c_out)
        self.g2 = LabelAffine(label_dim, c_out, init=1.0)
        self.cb2 = nn.Parameter(torch.zeros(c_out))  # class-shared additive gain
        # Residual branch starts near zero and its SN only ever shrinks (openai/ebm_code_release).
        self.conv2 = SNConv2d(c_out, c_out, lower_bound=True, init_std=1e-10)
        self.skip = SNConv2d(c_in, c_out) if c_in != c_out else None
        self.downsample, self.act, self.dropout = downsample, act, dropout

    def forward(self, x, y):  # x: [B, C_in, H, W], y: [B, L] or None
        # .to(dtype): under bf16 autocast the fp32 biases and gains would promote bf16 activations back to
        # fp32 (and autocast cast them down again at the next conv); in fp32 it is a no-op.
        h = self.conv1(x + self.b1(y)[:, :, None, None].to(x.dtype))
        if self.dropout > 0:
            h = dropout(h, self.dropout, self.training)
        h = self.act(h)
        gain = (self.g2(y) + self.cb2)[:, :, None, None]
        h = self.conv2(h + self.b2(y)[:, :, None, None].to(h.dtype)) * gain.to(h.dtype)
        s = self.skip(x) if self.skip is not None else x
        h = h + s
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return self.act(h)


@dataclass(frozen=True)
class ResNetSpec:
    """stem: width of the first 3x3 conv; blocks: (width, downsample) per block."""

    stem: int
    blocks: tuple[tuple[int, bool], ...]
    dropout: float = 0.0
    act: str = "lrelu"
    head_act: str = "relu"


class ResNetEnergy(nn.Module):
    """E(x, y): images [B, C, H, W] in [0, 1] -> energies [B]."""

    def __init__(self, spec: ResNetSpec, in_channels: int, label_dim: int = 0):
        super().__init__()
        self.label_dim = label_dim
        act = activation(spec.act)
        self.act, self.head_act = act, activation(spec.head_act)
        self.stem = SNConv2d(in_channels, spec.stem)
        blocks, c = [], spec.stem
        for width, down in spec.blocks:
            blocks.append(ResBlock(c, width, label_dim, down, act, spec.dropout))
            c = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(c, 1)  # the energy head: no spectral norm (openai/ebm_code_release)
        nn.init.xavier_uniform_(self.head.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        y = as_label_vector(y, self.label_dim)
        h = self.act(self.stem(x))
        for block in self.blocks:
            h = block(h, y)
        h = self.head_act(h).sum(dim=(2, 3))  # global sum pool, not mean
        return self.head(h).squeeze(-1)


def _widths(*spec):
    return tuple((w, d == "down") for w, d in spec)


# The paper's networks, F = filters (openai/ebm_code_release).
SPECS = {
    # 8x8 scikit-learn digits: 8 -> 4 -> 2.
    "digits_resnet": ResNetSpec(16, _widths((16, "down"), (32, "down"), (32, "same"))),
    "resnet32": ResNetSpec(
        128, _widths((128, "down"), (128, "same"), (256, "down"), (256, "same"), (256, "down"), (256, "same"))
    ),
    "resnet32_large": ResNetSpec(
        128,
        _widths(
            (128, "down"), (128, "same"), (128, "same"), (256, "down"), (256, "same"), (256, "same"),
            (512, "down"), (512, "same"), (512, "same"),
        ),
        dropout=0.5,
    ),
    "resnet32_wider": ResNetSpec(
        128,
        _widths(
            (256, "down"), (256, "same"), (256, "same"), (512, "down"), (512, "same"), (512, "same"),
            (1024, "down"), (1024, "same"), (1024, "same"),
        ),
    ),
    "resnet128": ResNetSpec(
        64,
        _widths((64, "down"), (128, "down"), (256, "down"), (512, "down"), (512, "down"), (512, "same")),
        act="swish",
        head_act="swish",
    ),
}


def _builder(spec: ResNetSpec):
    def build(in_channels: int, label_dim: int = 0, image_size: int | None = None) -> ResNetEnergy:
        return ResNetEnergy(spec, in_channels, label_dim)  # fully convolutional: any image size
    return build


for _name, _spec in SPECS.items():
    NETWORKS.register(_name)(_builder(_spec))
