"""Image samples as sample@ draws and shows them: persistent chains from U(0, 1) noise with balanced
starting labels, every draw from one seeded generator; uint8 images; the order of a 10x10 grid."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ebm.accel import uniform_on
from ebm.sampling.langevin import LangevinConfig
from ebm.sampling.persistent import PersistentConfig, persistent_sample


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def balanced_samples(models: Sequence[nn.Module], shape: tuple[int, ...], n_classes: int,
                     langevin_cfg: LangevinConfig, cfg: PersistentConfig, seed: int, device: torch.device,
                     progress: Callable[[int], None] | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``persistent_sample`` of ``cfg.n_chains`` chains of images ``shape``; conditional chains start from the
    labels 0, 1, ..., n_classes - 1, 0, ... Every draw comes from one generator on ``device`` seeded ``seed``.
    Returns (images [n, *shape], labels [n] or None) on the CPU."""
    gen = torch.Generator(device).manual_seed(seed)
    n = cfg.n_chains
    labels = torch.arange(n, device=device) % n_classes if n_classes else None  # balanced classes to start
    x, y = persistent_sample(models, uniform_on(shape, device, gen), labels, n_classes, langevin_cfg, cfg, gen,
                             progress=progress)
    return x.cpu(), (y.cpu() if y is not None else None)


def grid_order(y: torch.Tensor | None, n: int, per_class: int = 10) -> torch.Tensor:
    """Indices for a 10x10 grid: one row per asked class (conditional), else the first 100."""
    if y is None:
        return torch.arange(min(n, 100))
    rows = [torch.nonzero(y == c).flatten()[:per_class] for c in torch.unique(y)[:10]]
    return torch.cat(rows)
