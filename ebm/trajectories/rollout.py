"""Rollouts: each model generates a trajectory one state at a time from a start.

Every rollout function returns the generated states [B, H, D] after the start,
in raw state units. The EBMs sample each next step by Langevin (repeated
Langevin sampling, as the paper rolls out its trajectory EBM); the baselines
apply their regression.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ebm.sampling import LangevinConfig, langevin
from ebm.trajectories.data import Coder
from ebm.trajectories.models import FCPredictor, LSTMPredictor

StepFn = Callable[[torch.Tensor], torch.Tensor]  # context [B, k*D] -> standardised next step [B, D]


def rollout_steps(step: StepFn, coder: Coder, start: torch.Tensor, horizon: int) -> torch.Tensor:
    """Slide a k-state context along: start [B, k, D] -> [B, H, D]."""
    ctx, out = start, []
    for _ in range(horizon):
        nxt = coder.advance(ctx[:, -1], step(coder.context(ctx)))
        out.append(nxt)
        ctx = torch.cat([ctx[:, 1:], nxt[:, None]], 1)
    return torch.stack(out, 1)


def ebm_step(model: nn.Module, cfg: LangevinConfig, generator: torch.Generator | None = None) -> StepFn:
    """The conditional EBM's next step: Langevin from N(0, 1) (the training chains' fresh start)."""
    def step(context: torch.Tensor) -> torch.Tensor:
        x0 = torch.randn(context.shape[0], model.layers[0].in_features, generator=generator)
        return langevin(lambda x: model(x, context), x0, cfg, models=(model,), generator=generator)
    return step


def fc_step(model: FCPredictor) -> StepFn:
    def step(context: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(context)
    return step


@torch.no_grad()
def rollout_lstm(model: LSTMPredictor, coder: Coder, start: torch.Tensor, horizon: int) -> torch.Tensor:
    """Read the whole start [B, k, D], then feed back each predicted state."""
    pred, state = model(coder.states(start))
    last, out = start[:, -1], []
    for _ in range(horizon):
        last = coder.advance(last, pred[:, -1])
        out.append(last)
        pred, state = model(coder.states(last[:, None]), state)
    return torch.stack(out, 1)


def rollout_window(model: nn.Module, coder: Coder, start: torch.Tensor, horizon: int, cfg: LangevinConfig,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """The window EBM extends a trajectory by inpainting: the first w-1 states of its window are
    the last w-1 generated ones (held fixed by the mask), only the new step moves. start [B, w-1, D]."""
    b, w, d = start.shape[0], start.shape[1] + 1, coder.dim
    mask = torch.zeros(w * d)
    mask[-d:] = 1  # only the last step moves
    states, out = start, []
    for _ in range(horizon):
        known = coder.window(torch.cat([states, states[:, -1:]], 1))  # last step 0 in raw units: a placeholder
        fresh = torch.randn(b, w * d, generator=generator)
        x0 = torch.where(mask.bool(), fresh, known)
        x = langevin(model, x0, cfg, models=(model,), mask=mask, generator=generator)
        nxt = coder.unwindow(x, w)[:, -1]
        out.append(nxt)
        states = torch.cat([states[:, 1:], nxt[:, None]], 1)
    return torch.stack(out, 1)


def sample_windows(model: nn.Module, coder: Coder, n: int, w: int, cfg: LangevinConfig, n_steps: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Whole windows from noise (unconditional generation's first w states): [n, w, D]."""
    x0 = torch.randn(n, w * coder.dim, generator=generator)
    return coder.unwindow(langevin(model, x0, cfg, models=(model,), n_steps=n_steps, generator=generator), w)
