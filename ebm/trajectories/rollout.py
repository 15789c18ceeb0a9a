"""Rollouts: each model generates a trajectory one state at a time from a start.

Every rollout function returns the generated states [B, H, D] after the start,
in raw state units. The EBMs sample each next step by Langevin (repeated
Langevin sampling, as the paper rolls out its trajectory EBM); the baselines
apply their regression.

Where a chain starts (``ChainConfig``), the same for training negatives and
rollouts: ``past`` (the authors', model_based_planning_ebm ``type='past'``) puts
the new state at the last known one plus U(-scale, scale) in standardised state
units, so each step's chain only has to find the move from where the hand is;
``noise`` starts the new step from N(0, 1) in the model's coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ebm.config import between, ge
from ebm.sampling import LangevinConfig, langevin
from ebm.trajectories.data import Coder
from ebm.trajectories.models import FCPredictor, LSTMPredictor

StepFn = Callable[[torch.Tensor], torch.Tensor]  # context [B, k*D] -> standardised next step [B, D]


@dataclass(frozen=True)
class ChainConfig:
    # the conditional EBM's variable: "move" = z[t+1] - z[t] in state units (the authors' space, up to
    # a translation by the context), "step" = the step standardised by its own spread (d)
    space: Literal["step", "move"] = "step"
    start: Literal["noise", "past"] = "noise"
    start_scale: float = field(default=0.3, metadata=ge(0))  # past: U(-scale, scale) around the last state,
    # in the chain's units (move: state units, as the authors; step: units of each coordinate's step spread)
    noise_share: float = field(default=0.0, metadata=between(0, 1))  # window EBM training: chains over the
    # whole window from N(0, 1), all of it moving (what unconditional generation does); the rest start at a
    # real window whose newest step alone moves, from ``newest_step_start`` (what a rollout does)


def past_moves(n: int, dim: int, scale: float, generator=None) -> torch.Tensor:
    """The past start as a move in state units: U(-scale, scale) [n, dim]."""
    return (2 * torch.rand(n, dim, generator=generator) - 1) * scale


def chain_start(chain: ChainConfig, coder: Coder, n: int, generator=None) -> torch.Tensor:
    """Start states [n, D] of the conditional EBM's chains, in its own space (``chain.space``)."""
    if chain.start == "noise":
        return torch.randn(n, coder.dim, generator=generator)
    u = past_moves(n, coder.dim, chain.start_scale, generator)
    return u if chain.space == "move" else coder.move_to_step(torch.zeros(coder.dim)) + u


def newest_step_start(chain: ChainConfig, coder: Coder, n: int, generator=None) -> torch.Tensor:
    """The window EBM's newest step [n, D] (standardised step coordinates) at the start of a chain."""
    if chain.start == "noise":
        return torch.randn(n, coder.dim, generator=generator)
    return coder.move_to_step(torch.zeros(coder.dim)) + past_moves(n, coder.dim, chain.start_scale, generator)


def window_starts(chain: ChainConfig, coder: Coder, x_pos: torch.Tensor,
                  generator=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Training chains of the window EBM from a batch of real windows [B, w*D], and which coordinates
    each moves: a share ``noise_share`` whole windows from N(0, 1), every coordinate moving
    (unconditional generation); the rest the real window with its newest step replaced by
    ``newest_step_start``, only that step moving (a rollout's inpainting)."""
    b, d = x_pos.shape[0], coder.dim
    x0 = x_pos.clone()
    x0[:, -d:] = newest_step_start(chain, coder, b, generator)
    mask = torch.zeros_like(x0)
    mask[:, -d:] = 1
    if chain.noise_share > 0:
        fresh = torch.rand(b, generator=generator) < chain.noise_share
        x0[fresh] = torch.randn(int(fresh.sum()), x_pos.shape[1], generator=generator)
        mask[fresh] = 1
    return x0, mask


def rollout_steps(step: StepFn, coder: Coder, start: torch.Tensor, horizon: int, memory_frames: int = 0,
                  memory_reach: int = 0) -> torch.Tensor:
    """Slide a k-state context along: start [B, k, D] -> [B, H, D]. With a memory, ``step`` also sees the
    first ``memory_frames`` states of the rollout (its start); once the context is more than
    ``memory_reach`` steps past them, the memory moves along behind it, as far back as training reached."""
    k, traj = start.shape[1], start
    for i in range(horizon):
        ctx = traj[:, i : i + k]
        label = coder.context(ctx)
        if memory_frames:
            m0 = max(0, i - memory_reach)
            label = torch.cat([label, coder.context(traj[:, m0 : m0 + memory_frames])], 1)
        traj = torch.cat([traj, coder.advance(ctx[:, -1], step(label))[:, None]], 1)
    return traj[:, k:]


def ebm_step(model: nn.Module, cfg: LangevinConfig, coder: Coder, chain: ChainConfig = ChainConfig(),
             generator: torch.Generator | None = None) -> StepFn:
    """The conditional EBM's next step (returned as the standardised step d): a Langevin chain
    started as the training chains were (``chain_start``)."""
    def step(context: torch.Tensor) -> torch.Tensor:
        x0 = chain_start(chain, coder, context.shape[0], generator)
        x = langevin(lambda x: model(x, context), x0, cfg, models=(model,), generator=generator)
        return coder.move_to_step(x) if chain.space == "move" else x
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
                   chain: ChainConfig = ChainConfig(), generator: torch.Generator | None = None) -> torch.Tensor:
    """The window EBM extends a trajectory by inpainting: the first w-1 states of its window are
    the last w-1 generated ones (held fixed by the mask), only the new step moves, from
    ``newest_step_start``. start [B, w-1, D]."""
    b, w, d = start.shape[0], start.shape[1] + 1, coder.dim
    mask = torch.zeros(w * d)
    mask[-d:] = 1  # only the last step moves
    states, out = start, []
    for _ in range(horizon):
        x0 = coder.window(torch.cat([states, states[:, -1:]], 1))  # the newest step: a placeholder ...
        x0[:, -d:] = newest_step_start(chain, coder, b, generator)  # ... replaced by the chain's start
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
