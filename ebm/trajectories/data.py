"""Trajectory arrays -> model coordinates, and back.

Models work in standardised coordinates fitted on the training split: a state
``z = (s - mu_s) / sd_s`` and a step ``d = (s[t+1] - s[t] - mu_d) / sd_d``. The
conditional models (EBM, FC, LSTM) predict the next step ``d`` from the last
``k`` states; the unconditional EBM sees a window of ``w`` states as its first
state and the ``w - 1`` steps after it. Steps, not absolute next states: a
state moves little between two frames, so the next state is its step.

The conditional EBM may also get a *memory*: a few consecutive states from up to
``reach`` steps before its context (``memory_pairs``). In a rollout the memory is the
rollout's own start, which the context leaves further behind every step; it holds
what k recent states lose once a rollout's own sampling errors are in them (where a
joint rests between random kicks, the gait's phase; docs/trajectories.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

STD_FLOOR = 1e-5  # a coordinate that never moves keeps a finite scale


@dataclass(frozen=True)
class Coder:
    state_mean: torch.Tensor  # [D]
    state_std: torch.Tensor  # [D]
    step_mean: torch.Tensor  # [D]
    step_std: torch.Tensor  # [D]

    @classmethod
    def fit(cls, states: torch.Tensor) -> Coder:
        """From training trajectories [N, T+1, D]."""
        s = states.reshape(-1, states.shape[-1]).double()
        d = (states[:, 1:] - states[:, :-1]).reshape(-1, states.shape[-1]).double()
        return cls(s.mean(0).float(), s.std(0).clamp_min(STD_FLOOR).float(),
                   d.mean(0).float(), d.std(0).clamp_min(STD_FLOOR).float())

    def state_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("state_mean", "state_std", "step_mean", "step_std")}

    @property
    def dim(self) -> int:
        return self.state_mean.shape[0]

    def states(self, s: torch.Tensor) -> torch.Tensor:
        return (s - self.state_mean) / self.state_std

    def steps(self, s: torch.Tensor) -> torch.Tensor:
        """Standardised steps between consecutive states: [..., L, D] -> [..., L-1, D]."""
        return (s[..., 1:, :] - s[..., :-1, :] - self.step_mean) / self.step_std

    def moves(self, s: torch.Tensor) -> torch.Tensor:
        """Steps between consecutive states in *state* units (z[t+1] - z[t], the authors' chain
        space): [..., L, D] -> [..., L-1, D]. A move of 0 is "stay at the last state"."""
        return (s[..., 1:, :] - s[..., :-1, :]) / self.state_std

    def move_to_step(self, m: torch.Tensor) -> torch.Tensor:
        """A move in state units -> the standardised step ``d`` of the same displacement."""
        return (m * self.state_std - self.step_mean) / self.step_std

    def step_to_move(self, d: torch.Tensor) -> torch.Tensor:
        return (d * self.step_std + self.step_mean) / self.state_std

    def advance(self, s: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """The state after ``s`` [B, D] given a standardised step ``d`` [B, D]."""
        return s + d * self.step_std + self.step_mean

    def context(self, s: torch.Tensor) -> torch.Tensor:
        """The conditional models' input: the last k states [B, k, D] -> [B, k*D]."""
        return self.states(s).flatten(1)

    def window(self, s: torch.Tensor) -> torch.Tensor:
        """The window EBM's coordinates of a window [B, w, D] -> [B, w*D]: the w-1 older states standardised,
        as the conditional models see their context, then the newest step (``steps``). (The first state and
        w-1 steps, as until 2026-12-07, hide where the hand is now in a sum of small steps: 3x worse
        rollouts; docs/trajectories.md.)"""
        return torch.cat([self.states(s[:, :-1]), self.steps(s[:, -2:])], 1).flatten(1)

    def unwindow(self, x: torch.Tensor, w: int) -> torch.Tensor:
        """Inverse of ``window``: [B, w*D] -> states [B, w, D]."""
        x = x.view(x.shape[0], w, self.dim)
        older = x[:, :-1] * self.state_std + self.state_mean
        return torch.cat([older, self.advance(older[:, -1], x[:, -1])[:, None]], 1)


def next_step_pairs(states: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (last k states, next state) of trajectories [N, T+1, D]: [M, k, D], [M, 2, D] (last, next)."""
    win = states.unfold(1, k + 1, 1).permute(0, 1, 3, 2).reshape(-1, k + 1, states.shape[-1])  # [M, k+1, D]
    return win[:, :k], win[:, k - 1 :]


def windows(states: torch.Tensor, w: int) -> torch.Tensor:
    """Every window of w consecutive states: [N, T+1, D] -> [M, w, D]."""
    return states.unfold(1, w, 1).permute(0, 1, 3, 2).reshape(-1, w, states.shape[-1])


def memory_pairs(states: torch.Tensor, k: int, frames: int, reach: int, copies: int = 2,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``next_step_pairs`` with a memory: each pair ``copies`` times, each copy with ``frames``
    consecutive states starting a uniform 0..reach steps before the context's first state (as
    far back as the trajectory goes). [M, k, D] context, [M, frames, D] memory, [M, 2, D] (last, next)."""
    if not 0 < frames <= k:
        raise ValueError(f"memory_pairs: frames = {frames} must be in 1..k = {k}")
    n, length, _ = states.shape
    first = torch.arange(0, length - k)  # the context's first state; the next state is first + k
    traj, first = torch.arange(n).repeat_interleave(len(first)).repeat(copies), first.repeat(n * copies)
    lo = (first - reach).clamp_min(0)
    start = lo + (torch.rand(len(first), generator=generator) * (first - lo + 1)).long()
    at = lambda base, count: states[traj[:, None], base[:, None] + torch.arange(count)]  # noqa: E731
    return at(first, k), at(start, frames), at(first + k - 1, 2)
