"""Langevin dynamics on an energy, in the two forms the project offers.

* ``decoupled`` (the original code in openai/ebm_code_release): noise first, then a
  gradient step with its own step size; the gradient is clipped element-wise and
  the state clamped to [0, 1] after every step::

      x <- clamp(x - step_size * clip(grad E(x + eps), +-grad_clip), 0, 1),  eps ~ N(0, noise_std^2)

* ``textbook`` (the slides): x <- x - step_size/2 * grad E(x) + w, w ~ N(0, step_size).
  Samples exp(-E) as step_size -> 0; no clipping, no clamping unless asked.

The chain never computes weight gradients: parameters are frozen for its
duration and only d(sum E)/dx is taken. Spectral-norm vectors are not touched
(the forward of ``ebm.models.spectral`` layers never updates them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ebm.config import ge, gt

Energy = Callable[[torch.Tensor], torch.Tensor]  # x [B, ...] -> E [B]


@dataclass(frozen=True)
class LangevinConfig:
    n_steps: int = field(default=60, metadata=ge(0))
    step_size: float = field(default=10.0, metadata=gt(0))
    noise_std: float = field(default=0.005, metadata=ge(0))  # decoupled form only
    grad_clip: float = field(default=0.01, metadata=ge(0))  # 0 = no clipping; decoupled form only
    form: Literal["decoupled", "textbook"] = "decoupled"
    clamp: bool = True  # keep x in [0, 1] (images)


@contextlib.contextmanager
def frozen(*models: nn.Module) -> Iterator[None]:
    """Parameters need no gradients inside the block (and are restored after)."""
    params = [p for m in models for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


def energy_grad(energy: Energy, x: torch.Tensor) -> torch.Tensor:
    """d(sum E)/dx, without touching parameter gradients."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(energy(x).sum(), x)
    return g


def langevin_step(energy: Energy, x: torch.Tensor, cfg: LangevinConfig, generator=None) -> torch.Tensor:
    if cfg.form == "decoupled":
        x = x + cfg.noise_std * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        g = energy_grad(energy, x)
        if cfg.grad_clip > 0:
            g = g.clamp(-cfg.grad_clip, cfg.grad_clip)
        x = x - cfg.step_size * g
    else:
        g = energy_grad(energy, x)
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = x - cfg.step_size / 2 * g + cfg.step_size**0.5 * noise
    return x.clamp(0, 1) if cfg.clamp else x


def langevin(
    energy: Energy,
    x: torch.Tensor,
    cfg: LangevinConfig,
    *,
    models: tuple[nn.Module, ...] = (),
    mask: torch.Tensor | None = None,
    n_steps: int | None = None,
    generator: torch.Generator | None = None,
    trace_every: int = 0,
) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
    """Run the chain from ``x``; returns the final state (detached).

    Args:
        energy: x -> per-sample energies.
        models: the modules behind ``energy``; frozen for the chain's duration.
        mask: where 1, the state moves; where 0, it keeps its start value
            (inpainting, denoising). Same shape as ``x`` or broadcastable.
        trace_every: if > 0, also return the states every that many steps.
    """
    x = x.detach()
    start = x
    trace = []
    with frozen(*models):
        for k in range(cfg.n_steps if n_steps is None else n_steps):
            x = langevin_step(energy, x, cfg, generator).detach()
            if mask is not None:
                x = torch.where(mask.bool(), x, start)
            if trace_every and (k + 1) % trace_every == 0:
                trace.append(x)
    return (x, trace) if trace_every else x
