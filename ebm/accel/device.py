"""Where and how the energy network runs: device, bf16 autocast, channels_last, torch.compile.

Defaults reproduce plain fp32 eager execution on the CPU (or the first GPU when
``device: auto`` finds one). Every option also runs on the CPU: bf16 autocast
uses oneDNN there (AMX on recent Xeons), channels_last is a memory layout, and
torch.compile uses Inductor's C++ backend.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass(frozen=True)
class AccelConfig:
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when present, else the CPU
    amp: Literal["none", "bf16"] = "none"  # bf16 autocast of the network (energies and gradients stay fp32)
    channels_last: bool = False  # NHWC memory layout for images and conv weights
    compile: bool = False  # torch.compile the network the Langevin chain calls (forward + input gradient)


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """'auto' | 'cpu' | 'cuda' -> a torch.device (one GPU per local rank)."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device = {name!r}: no CUDA device is visible here (use auto or cpu)")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def autocast(device: torch.device, amp: str):
    """bf16 autocast on ``device`` when ``amp == 'bf16'``, else a no-op context."""
    if amp == "none":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class Accelerated(nn.Module):
    """Runs ``net(x, y)`` in the configured layout and precision; returns fp32 energies [B].

    The energies are cast back to fp32 so the loss (means of E and E^2) and the
    Langevin gradient dE/dx (x stays fp32) are not computed in bf16.
    """

    def __init__(self, net: nn.Module, cfg: AccelConfig, device: torch.device):
        super().__init__()
        self.net, self.cfg, self.device = net, cfg, device

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.cfg.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.cfg.amp):
            e = self.net(x, y)
        return e.float()


def accelerate(net: nn.Module, cfg: AccelConfig, device: torch.device) -> tuple[Accelerated, nn.Module]:
    """Move ``net`` to ``device`` (in place) and wrap it.

    Returns (model, chain_model): ``model`` for the training loss; ``chain_model``
    is the same module, compiled when ``cfg.compile`` (for the Langevin chain,
    whose many forward + input-gradient passes are where the time goes).
    """
    net.to(device)
    if cfg.channels_last:
        net.to(memory_format=torch.channels_last)
    model = Accelerated(net, cfg, device)
    return model, (torch.compile(model) if cfg.compile else model)


def uniform_on(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None = None):
    """Chain initialisation on ``device``: U(0, 1) per pixel, n -> [n, *shape].

    The same numbers as ``ebm.data.uniform_like`` on the CPU.
    """
    return lambda n: torch.rand((n, *shape), generator=generator, device=device)
