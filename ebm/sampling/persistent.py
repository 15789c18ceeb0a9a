"""Test-time sampling as the original's FID/IS protocol does it (openai/ebm_code_release).

A persistent set of chains is advanced in rounds of ``n_steps`` Langevin steps.
Between rounds each chain restarts from noise with probability ``reset_prob``
and (conditional models) takes a new random label with probability
``relabel_prob``; both stop for the last ``settle_rounds`` rounds.

With several models (a historical ensemble) each round uses the next model in
turn, as the original does (``rotate``), or all of them at once: through the sum
of their energies (``sum``, a product of experts, K times colder than one model)
or their mean (``mean``, the same temperature as one model, so the Langevin step
and gradient clip keep their meaning).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ebm.config import between, ge, gt
from ebm.sampling.langevin import LangevinConfig, langevin

LabelledEnergy = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


@dataclass(frozen=True)
class PersistentConfig:
    n_chains: int = field(default=1000, metadata=gt(0))
    rounds: int = field(default=20, metadata=gt(0))
    reset_prob: float = field(default=0.01, metadata=between(0, 1))
    relabel_prob: float = field(default=0.1, metadata=between(0, 1))
    settle_rounds: int = field(default=5, metadata=ge(0))
    ensemble_mode: Literal["rotate", "sum", "mean"] = "rotate"


def sum_energy(models: Sequence[nn.Module]) -> LabelledEnergy:
    return lambda x, y: sum(m(x, y) for m in models)


def mean_energy(models: Sequence[nn.Module]) -> LabelledEnergy:
    return lambda x, y: sum(m(x, y) for m in models) / len(models)


def persistent_sample(
    models: Sequence[nn.Module],
    init: Callable[[int], torch.Tensor],
    labels: torch.Tensor | None,
    n_classes: int,
    langevin_cfg: LangevinConfig,
    cfg: PersistentConfig,
    generator: torch.Generator | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Advance ``cfg.n_chains`` persistent chains; returns final images and labels.

    Args:
        models: one model, or a historical ensemble (oldest first).
        init: n -> fresh chain starts (e.g. uniform noise) [n, ...].
        labels: initial labels [n_chains] for conditional models, else None.
        n_classes: for random relabelling (0: unconditional).
        progress: called with the round number after each round.
    """
    n = cfg.n_chains
    x = init(n)
    y = labels.clone() if labels is not None else None
    for r in range(cfg.rounds):
        mixing = r < cfg.rounds - cfg.settle_rounds
        if mixing and r > 0:
            reset = torch.rand(n, generator=generator, device=x.device) < cfg.reset_prob
            x = torch.where(reset.view(-1, *[1] * (x.dim() - 1)), init(n), x)
            if y is not None and n_classes > 0:
                relabel = torch.rand(n, generator=generator, device=x.device) < cfg.relabel_prob
                y = torch.where(relabel, torch.randint(0, n_classes, (n,), generator=generator, device=x.device), y)
        chosen = [models[r % len(models)]] if cfg.ensemble_mode == "rotate" else models
        energy = mean_energy(chosen) if cfg.ensemble_mode == "mean" else sum_energy(chosen)
        x = langevin(lambda z: energy(z, y), x, langevin_cfg, models=tuple(chosen), generator=generator)
        if progress is not None:
            progress(r + 1)
    return x, y
