"""Data-parallel training: one process per device under ``torchrun``, gradients averaged by DDP.

Each rank draws its own data batches, runs its own Langevin chains and keeps its
own replay buffer (as the original's Horovod workers did); the effective batch is
``batch_size * world``. Weights stay identical across ranks because DDP
broadcasts them from rank 0 at the start and averages gradients every step; the
spectral-norm ``u``/``v`` buffers are computed from identical weights by every
rank and also broadcast from rank 0 on every DDP forward (DDP's default buffer sync).
The chains call the bare module, not the DDP wrapper: they need no gradient
averaging and no buffer broadcasts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.distributed as dist
from torch import nn

from ebm.config import gt


@dataclass(frozen=True)
class DistConfig:
    nproc: int = field(default=1, metadata=gt(0))  # processes per node (one per GPU); > 1 runs under torchrun
    backend: Literal["auto", "nccl", "gloo"] = "auto"  # auto: nccl on CUDA, gloo on the CPU


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def env_context() -> DistContext:
    """Rank and world size from torchrun's environment (one process if unset)."""
    env = os.environ
    return DistContext(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


def init_distributed(ctx: DistContext, backend: str, device: torch.device) -> None:
    """Join the process group (nothing to do for a single process)."""
    if ctx.world == 1 or dist.is_initialized():
        return
    if backend == "auto":
        backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend, rank=ctx.rank, world_size=ctx.world,
                            device_id=device if device.type == "cuda" else None)


def rank_seed(seed: int, rank: int) -> int:
    """Chains, buffers and dropout differ per rank; rank 0 keeps the single-process seed."""
    return seed + 1_000_003 * rank


def wrap_ddp(model: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    if ctx.world == 1:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)  # buffers synced from rank 0 each forward


def all_mean(values: dict[str, float], ctx: DistContext, device: torch.device) -> dict[str, float]:
    """The mean of each value over ranks (identical on every rank, so decisions agree)."""
    if ctx.world == 1:
        return values
    t = torch.tensor([float(v) for v in values.values()], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return {k: float(v) / ctx.world for k, v in zip(values, t.tolist())}


def all_equal(value: int, ctx: DistContext, device: torch.device) -> bool:
    """Whether every rank holds the same integer (e.g. the step it would resume from)."""
    if ctx.world == 1:
        return True
    t = torch.tensor([value, -value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t[0]) == value and int(-t[1]) == value


def barrier(ctx: DistContext) -> None:
    if ctx.world > 1:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    if ctx.world > 1 and dist.is_initialized():
        dist.destroy_process_group()
