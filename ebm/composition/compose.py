"""Sampling from a sum of energies: p(x) ∝ Π_i exp(-E_i(x)), i.e. E(x) = Σ_i E_i(x | c_i).

Two schemes:
* ``sum``: Langevin on the summed energy; each step follows Σ_i ∇E_i.
* ``alternate``: the original's ``conceptcombine`` (ebm_combine.py in openai/ebm_code_release):
  each step is one full Langevin sub-step per model in turn (its own noise, its
  own gradient, clamp), an operator splitting of the same target. As every
  sub-step adds noise, k models sample at k times the temperature (the same
  modes; tests/test_composition.py checks both on two Gaussians).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ebm.composition.dsprites import FACTORS
from ebm.config import gt
from ebm.sampling.langevin import Energy, LangevinConfig, frozen, langevin, langevin_step

Scheme = Literal["sum", "alternate"]


@dataclass(frozen=True)
class ComposeConfig:
    """The compose section (Figure 15's protocol, ebm.composition.figure15.run)."""
    combos: tuple[tuple[str, ...], ...] = (("size", "position"), ("shape", "position"),
                                           ("size", "shape", "position"), FACTORS)
    schemes: tuple[str, ...] = ("sum", "alternate")
    n_samples: int = field(default=200, metadata=gt(0))  # chains per combination (held-out images asked)
    n_show: int = field(default=10, metadata=gt(0))  # columns of the figure


def sum_of(energies: Sequence[Energy]) -> Energy:
    """x -> Σ_i E_i(x): [B]."""
    return lambda x: sum(e(x) for e in energies)


def compose_langevin(
    energies: Sequence[Energy],
    x: torch.Tensor,
    cfg: LangevinConfig,
    scheme: Scheme = "sum",
    *,
    models: tuple[nn.Module, ...] = (),
    n_steps: int | None = None,
    generator: torch.Generator | None = None,
    trace_every: int = 0,
) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
    """Chains from ``x`` under the composition of ``energies``; as ``ebm.sampling.langevin``."""
    if scheme == "sum":
        return langevin(sum_of(energies), x, cfg, models=models, n_steps=n_steps, generator=generator,
                        trace_every=trace_every)
    if scheme != "alternate":
        raise ValueError(f"unknown scheme {scheme!r} (allowed: sum, alternate)")
    x, trace = x.detach(), []
    with frozen(*models):
        for k in range(cfg.n_steps if n_steps is None else n_steps):
            for energy in energies:  # one sub-step per model, in order (size, shape, position, rotation)
                x = langevin_step(energy, x, cfg, generator).detach()
            if trace_every and (k + 1) % trace_every == 0:
                trace.append(x)
    return (x, trace) if trace_every else x
