"""Speed and scale: device placement, bf16 autocast, channels_last, torch.compile, DDP."""

from ebm.accel.device import AccelConfig, Accelerated, accelerate, autocast, resolve_device, uniform_on
from ebm.accel.distributed import (
    DistConfig, DistContext, all_equal, all_mean, barrier, env_context, init_distributed, rank_seed, shutdown, wrap_ddp,
)

__all__ = [
    "AccelConfig", "Accelerated", "DistConfig", "DistContext", "accelerate", "all_equal", "all_mean", "autocast",
    "barrier", "env_context", "init_distributed", "rank_seed", "resolve_device", "shutdown", "uniform_on", "wrap_ddp",
]
