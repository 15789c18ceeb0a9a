"""Algorithm 1 set up for a trajectory EBM: its chain starts and its batches (the loop is ebm.training.fit).

The conditional EBM's training chains start as its rollouts do (``chain.start``: noise or the last
state's move plus a little noise); the window EBM's start from the batch's real windows with only the
newest step replaced and moving, or (a share ``noise_share``) as whole windows from noise
(``rollout.window_starts``, which also gives the Trainer each chain's mask), so its init reads the
current batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ebm.sampling import LangevinConfig
from ebm.training import Trainer, TrainConfig, batch_at
from ebm.trajectories.data import Coder
from ebm.trajectories.rollout import ChainConfig, chain_start, window_starts


def ebm_training(name: str, model: nn.Module, coder: Coder, train_cfg: TrainConfig, langevin_cfg: LangevinConfig,
                 chain: ChainConfig, x: torch.Tensor, y: torch.Tensor | None,
                 seed: int) -> tuple[Trainer, Callable[[int], tuple]]:
    """(trainer, batch) for ``ebm.training.fit``: x, y from ``training_set(name, ...)``; batch(step) is a
    stateless function of the step (``batch_at``), so a resumed run sees the batches it would have seen."""
    current = {}
    if name == "ebm_cond":
        init = lambda n: chain_start(chain, coder, n)  # noqa: E731
    else:
        init = lambda n: window_starts(chain, coder, current["x"])  # noqa: E731
    trainer = Trainer(model, train_cfg, langevin_cfg, init, quantize_buffer=False)
    size = min(train_cfg.batch_size, len(x))

    def batch(step: int) -> tuple:
        current["x"], yb = batch_at(x, y, size, step - 1, seed)
        return current["x"], yb

    return trainer, batch
