"""Fréchet distances between generated and real trajectories at several horizons.

At horizon h (steps after the start) each trajectory gives two feature vectors:
* state:  the standardised state s[h] (where the hand and block are);
* motion: the displacement s[h] - s[0] from the last start state, divided by
  the real data's spread of that displacement (how they moved: a hand that
  stops moving, the "collapse" of the paper's FC baseline, is far off here
  even when its states still look like real ones).
Both are Fréchet distances between Gaussians fitted to the two sets (the FID
formula on these features, ``ebm.evaluation.frechet_distance``).
"""

from __future__ import annotations

import torch

from ebm.evaluation import frechet_distance
from ebm.trajectories.data import STD_FLOOR, Coder


def segments(states: torch.Tensor, k: int, horizon: int, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Starts of k states every ``every`` steps of trajectories [N, T+1, D], each with its next
    ``horizon`` states: start [M, k, D], future [M, horizon, D] (M = N x number of offsets)."""
    offsets = range(0, states.shape[1] - k - horizon + 1, every)
    start = torch.cat([states[:, o : o + k] for o in offsets])
    future = torch.cat([states[:, o + k : o + k + horizon] for o in offsets])
    return start, future


def motion_scale(start_last: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
    """Spread of the real displacement at each horizon: [M, D], [M, H, D] -> [H, D]."""
    return (future - start_last[:, None]).std(0).clamp_min(STD_FLOOR)


def horizon_fd(gen: torch.Tensor, gen_last: torch.Tensor, real: torch.Tensor, real_last: torch.Tensor,
               horizons: tuple[int, ...], coder: Coder, scale: torch.Tensor) -> dict[str, dict[str, float]]:
    """{"state": {"h<h>": fd}, "motion": {...}} for generated [B, H, D] vs real [M, H, D] futures,
    each after its own last start state (gen_last [B, D], real_last [M, D])."""
    out = {"state": {}, "motion": {}}
    for h in horizons:
        g, r = gen[:, h - 1], real[:, h - 1]
        out["state"][f"h{h}"] = frechet_distance(coder.states(g).double().numpy(), coder.states(r).double().numpy())
        gm, rm = (g - gen_last) / scale[h - 1], (r - real_last) / scale[h - 1]
        out["motion"][f"h{h}"] = frechet_distance(gm.double().numpy(), rm.double().numpy())
    return out
