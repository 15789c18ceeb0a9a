"""What evaluate_traj reads and writes beside its metrics: the trained models as the rollout protocol
takes them, and every model's rollouts as arrays.

data/rollouts/<model>.npz (raw state units): ``<setting>_start`` [B, k, D] (the starts, the held-out ones
for conditional, repeated ``samples`` times for the EBMs), ``<setting>`` [B, H, D] (the generated states
after them), ``real`` [M, H, D] (the held-out continuations), ``test_trajectory`` / ``test_offset`` [M]
(where each held-out start is: index into test_states, first step), ``horizons``; enough to score them
outside the stage.
"""

from __future__ import annotations

import numpy as np
import torch

from ebm.sampling import LangevinConfig
from ebm.trajectories.evaluate import Evaluation, TrainedModel
from ebm.trajectories.rollout import ChainConfig
from stages.common.io import UserError, atomic_path
from stages.common.trajectories import load_model


def check_horizon(test: torch.Tensor, k: int, horizon: int) -> None:
    """Refuses a horizon that the held-out trajectories [M, T+1, D] are too short to score after k states."""
    if test.shape[1] < k + horizon:
        raise UserError(f"trajectory.evaluate.horizons: {horizon} steps after {k} context states need trajectories "
                        f"of {k + horizon} states, recorded ones have {test.shape[1]}; lower it or raise "
                        "record.length")


def trained(name: str, k: int) -> TrainedModel:
    """The checkpoint of ``name`` with the sampler, chain start and memory it trained with; refuses another context."""
    model, coder, ckpt = load_model(name)
    if ckpt["context"] != k:
        raise UserError(f"trajectory.context = {k}: {name} was trained with {ckpt['context']}; "
                        f"run `dvc repro train_traj@{name}`")
    langevin = LangevinConfig(**ckpt["langevin"]) if "langevin" in ckpt else None  # EBMs sample as they trained
    arch = ckpt["arch"]
    memory = (arch.get("memory_frames", 0), arch.get("memory_reach", 0))
    return TrainedModel(name, model, coder, langevin, ChainConfig(**ckpt.get("chain", {})), memory)


def save_rollouts(result: Evaluation, horizon: int, path) -> None:
    """data/rollouts/<model>.npz for every model, written together (atomically)."""
    where = {"test_trajectory": result.test_trajectory.numpy(), "test_offset": result.test_offset.numpy()}
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        for name, arrays in result.rollouts.items():
            with open(tmp / f"{name}.npz", "wb") as f:
                np.savez_compressed(f, **{key: a.numpy() for key, a in arrays.items()}, real=result.real.numpy(),
                                    horizons=np.array(horizon), **where)
