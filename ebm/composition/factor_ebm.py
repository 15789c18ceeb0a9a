"""One dSprites factor's conditional EBM: its training pairs and the image rows that show what it learned."""

from __future__ import annotations

import torch
from torch import nn

from ebm.composition.dsprites import DSprites, factor_labels
from ebm.sampling import LangevinConfig, langevin


def training_set(data: DSprites, test: torch.Tensor, factor: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images [N, C, H, W] in [0, 1], labels of ``factor`` [N, d]) of the images not held out (``test``)."""
    x = data.images[~test].float() / 255  # binary-ish sprites: no dequantisation noise, as the original
    return x, factor_labels(data.values[~test], factor)


def sample_rows(model: nn.Module, x: torch.Tensor, y: torch.Tensor, negatives: torch.Tensor, cfg: LangevinConfig,
                n: int = 16) -> torch.Tensor:
    """[3n, C, H, W]: n random training images, fresh samples from uniform noise under their labels (three
    times cfg.n_steps), then the first n of ``negatives`` (the trainer's last replay negatives)."""
    show = torch.randperm(len(x))[:n]  # rows are in the grid's order: pick at random
    fresh = langevin(lambda z: model(z, y[show]), torch.rand(len(show), *x.shape[1:]), cfg, n_steps=3 * cfg.n_steps)
    return torch.cat([x[show], fresh, negatives[:n]])
