"""Cross-product generalisation on dSprites: the original's ``gentest`` (openai/ebm_code_release).

Training sets vary one factor at a time: squares at one orientation, every
position at the smallest scale plus every scale at the centre (size x position);
or every position for the square plus every shape at the centre, at scale class
``shape_scale`` (shape x position). The test set is every combination never seen
together (scale, or shape, off the fixed one *and* position off the centre).
The EBM is the sum of the two factor EBMs, fine-tuned on the training set; the
baseline is a conditional generator (ebm.composition.generator_baseline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ebm.composition.dsprites import SIZES
from ebm.config import between, ge, gt

EXPERIMENTS = {"size_position": ("size", "position"), "shape_position": ("shape", "position")}
CENTRE = 16  # position class of the centre: (16/31, 16/31), as the original


@dataclass(frozen=True)
class CrossProductConfig:
    experiments: tuple[str, ...] = ("size_position", "shape_position")
    shape_scale: int = field(default=5, metadata=between(0, 5))  # scale class of the shape x position set
    n_test: int = field(default=256, metadata=gt(0))  # held-out combinations sampled by the EBM
    sample_steps: int = field(default=40, metadata=gt(0))  # the original: 2 x num_steps
    seen: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0)  # baseline: share of held-out combos seen
    z_dim: int = field(default=128, metadata=ge(0))  # baseline noise input (the original: 128)
    gen_hidden: tuple[int, ...] = (256, 256)
    gen_steps: int = field(default=500, metadata=gt(0))
    gen_batch: int = field(default=128, metadata=gt(0))
    gen_lr: float = field(default=1e-3, metadata=gt(0))


def split_combos(experiment: str, orientation: int, shape_scale: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """(train classes [M, 5], test classes [K, 5]) over (shape, scale, orientation, x, y)."""
    xs, ys = torch.meshgrid(torch.arange(SIZES[3]), torch.arange(SIZES[4]), indexing="ij")
    pos = torch.stack([xs.flatten(), ys.flatten()], dim=1)  # [1024, 2]
    centre = (pos == CENTRE).all(dim=1)
    if experiment == "size_position":
        other, fixed = torch.arange(SIZES[1]), 0  # the varied factor's classes; its value in the position set
        make = lambda o, p: [0, o, orientation, *p]  # noqa: E731
    elif experiment == "shape_position":
        other, fixed = torch.arange(SIZES[0]), 0
        make = lambda o, p: [o, shape_scale, orientation, *p]  # noqa: E731
    else:
        raise ValueError(f"unknown experiment {experiment!r} (allowed: {', '.join(EXPERIMENTS)})")
    train = [make(o, (CENTRE, CENTRE)) for o in other.tolist()]  # the factor alone, at the centre
    train += [make(fixed, p) for p in pos[~centre].tolist()]  # position alone
    test = [make(o, p) for o in other.tolist() if o != fixed for p in pos[~centre].tolist()]
    return torch.tensor(train), torch.tensor(test)


def balanced(n_factor: int, n_position: int) -> torch.Tensor:
    """Indices into [factor set | position set] with the small factor set tiled to the
    position set's size. The original tiles the *position* set (1024 // 6 times), which
    leaves the 6 size images almost unseen; that looks like a bug, so the other set is tiled."""
    reps = max(n_position // n_factor, 1)
    return torch.cat([torch.arange(n_factor).repeat(reps), n_factor + torch.arange(n_position)])


class SumEnergy(nn.Module):
    """E(x | c_1, ..., c_k) = Σ_i E_i(x | c_i), the label being [c_1 | ... | c_k]."""

    def __init__(self, models: Sequence[nn.Module], label_dims: Sequence[int]):
        super().__init__()
        self.parts = nn.ModuleList(models)
        self.label_dims = list(label_dims)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # y [B, Σ label_dims] -> [B]
        return sum(m(x, c) for m, c in zip(self.parts, y.split(self.label_dims, dim=1)))


def image_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared error over pixels: [N]."""
    return ((a - b) ** 2).flatten(1).mean(dim=1)
