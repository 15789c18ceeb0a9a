"""What each trajectory model trains on, in its own coordinates (``data.Coder``): x what the model
generates or predicts, y what it is given.

ebm_cond, fc  x = the next standardised step [M, D], y = the last k states [M, k*D]; the EBM's
              y also holds its memory states (``NetConfig.memory_frames``), and its x is the
              authors' move z[t+1] - z[t] when its chain lives there (``ChainConfig.space``)
ebm_uncond    x = every window of k+1 states in window coordinates [M, (k+1)*D], no y
lstm          x = the step after every state but the last [N, T, D], y = those states [N, T, D]
"""

from __future__ import annotations

import torch

from ebm.trajectories.data import Coder, memory_pairs, next_step_pairs, windows
from ebm.trajectories.models import NetConfig
from ebm.trajectories.rollout import ChainConfig


def training_set(name: str, states: torch.Tensor, k: int, coder: Coder, net: NetConfig = NetConfig(),
                 chain: ChainConfig = ChainConfig(),
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(x, y) of model ``name`` from training trajectories [N, T+1, D] (raw state units)."""
    if name == "ebm_uncond":
        return coder.window(windows(states, k + 1)), None
    if name == "lstm":
        return coder.steps(states), coder.states(states[:, :-1])
    memory = net.memory_frames if name == "ebm_cond" else 0
    if memory:
        ctx, mem, nxt = memory_pairs(states, k, memory, net.memory_reach, generator=generator)
    else:
        ctx, nxt = next_step_pairs(states, k)
    y = coder.context(ctx)
    if memory:
        y = torch.cat([y, coder.context(mem)], 1)
    if name == "ebm_cond" and chain.space == "move":
        return coder.moves(nxt)[:, 0], y
    return coder.steps(nxt)[:, 0], y
