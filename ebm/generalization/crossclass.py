"""Cross-class mode coverage (openai/ebm_code_release ``crossclass``): start a chain from an image
of one class, condition it on another, and follow where it goes."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ebm.config import gt
from ebm.sampling import LangevinConfig, langevin


@dataclass(frozen=True)
class CrossClassConfig:
    rounds: int = field(default=10, metadata=gt(0))  # snapshots, n_steps Langevin steps apart (the original: 10)
    # The same chains again at these Langevin noise levels (the chain's temperature): how far
    # crossing from the start image's mode to the asked one depends on it. () = none.
    noise_sweep: tuple[float, ...] = ()


def other_labels(y: torch.Tensor, n_classes: int, generator=None) -> torch.Tensor:
    """A uniformly random label different from each y (shift by 1..n_classes-1)."""
    shift = torch.randint(1, n_classes, y.shape, generator=generator, device=y.device)
    return (y + shift) % n_classes


def cross_class_chains(model, x0: torch.Tensor, y_new: torch.Tensor, cfg: LangevinConfig, rounds: int,
                       generator=None) -> torch.Tensor:
    """The trajectory [rounds + 1, N, C, H, W]: x0, then the state every cfg.n_steps steps under y_new."""
    _, trace = langevin(lambda z: model(z, y_new), x0, cfg, models=(model,), n_steps=rounds * cfg.n_steps,
                        generator=generator, trace_every=cfg.n_steps)
    return torch.stack([x0, *trace])
