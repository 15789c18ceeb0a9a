"""Algorithm 1 on data-parallel ranks (ebm.accel.distributed) as train@ runs it: the same initial weights on
every rank, and each rank its own chains, replay buffer, dropout and batches."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ebm.accel import AccelConfig, DistContext, accelerate, rank_seed, uniform_on, wrap_ddp
from ebm.data import dequantize
from ebm.models import build_energy
from ebm.sampling import LangevinConfig
from ebm.training.algorithm1 import TrainConfig, Trainer, batch_at


def rank_trainer(network: str, shape: tuple[int, ...], label_dim: int, seed: int, ctx: DistContext,
                 accel: AccelConfig, device: torch.device, cfg: TrainConfig,
                 langevin_cfg: LangevinConfig) -> tuple[nn.Module, Trainer]:
    """(the bare energy network ``network`` for images ``shape`` [C, H, W], its Trainer on ``device`` under DDP,
    the chains starting from U(0, 1) noise). Seeds torch's global generator: ``seed`` before the network is
    built, then, with several ranks, the rank's own seed."""
    torch.manual_seed(seed)  # the same initial weights on every rank
    model = build_energy(network, shape[0], label_dim, shape[-1])
    if ctx.world > 1:
        torch.manual_seed(rank_seed(seed, ctx.rank))  # but each rank its own chains, buffer and dropout
    fast, chain = accelerate(model, accel, device)
    trainer = Trainer(wrap_ddp(fast, ctx, device), cfg, langevin_cfg, uniform_on(shape, device), chain_model=chain)
    return model, trainer


def rank_batches(x: torch.Tensor, labels: torch.Tensor | None, batch_size: int, seed: int, ctx: DistContext,
                 device: torch.device) -> Callable[[int], tuple[torch.Tensor, torch.Tensor | None]]:
    """step -> this rank's batch (dequantized images, labels or None) on ``device``."""

    def batch(step):  # rank r takes the batches r, r + world, ...: one stateless sequence, split between ranks
        xb, yb = batch_at(x, labels, batch_size, (step - 1) * ctx.world + ctx.rank, seed)
        return dequantize(xb).to(device), (yb.to(device) if yb is not None else None)

    return batch
