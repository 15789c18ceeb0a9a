"""The trajectory models: two EBMs on ``MLPEnergy`` and the FC / LSTM baselines.

* conditional EBM  E(d | context): d the next standardised step [D], the last
  k standardised states [k*D] enter as a label vector (a bias on every hidden layer),
  followed by ``memory_frames`` older states when it has a memory (``data.memory_pairs``).
* window EBM E(window): a window of w states in window coordinates [w*D] (``Coder.window``): the
  newest step through the MLP, the w-1 older states as a bias on every hidden layer, the conditional
  EBM's network; one energy of the whole window, so it also samples whole windows from noise.
* FC   context [k*D] -> next step [D], trained with MSE.
* LSTM the states so far, one at a time -> next step [D], trained with MSE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.config import ge, gt
from ebm.models import MLPEnergy
from ebm.registry import Registry

Kind = Literal["ebm", "fc", "lstm"]


@dataclass(frozen=True)
class NetConfig:
    hidden: tuple[int, ...] = (256, 256)
    act: Literal["swish", "relu", "lrelu"] = "swish"  # EBMs (the baselines use ReLU)
    spectral_norm: bool = True  # EBMs only
    # the conditional EBM's memory (data.memory_pairs): states it also sees, from up to memory_reach steps
    # before its context (0 frames: none; the window EBM has none)
    memory_frames: int = field(default=0, metadata=ge(0))
    memory_reach: int = field(default=40, metadata=ge(0))


@dataclass(frozen=True)
class FCConfig:
    hidden: tuple[int, ...] = (256, 256)  # ReLU layers


@dataclass(frozen=True)
class LSTMConfig:
    hidden_size: int = field(default=256, metadata=gt(0))
    num_layers: int = field(default=1, metadata=gt(0))


def conditional_energy(dim: int, k: int, net: NetConfig) -> MLPEnergy:
    return MLPEnergy(dim, net.hidden, label_dim=(k + net.memory_frames) * dim, act=net.act, spectral_norm=net.spectral_norm)


class WindowEnergy(nn.Module):
    """E(window) [B, w*D] -> [B]: ``MLPEnergy`` of the newest step with the older states as its label. The
    label path is linear, so chains over whole windows move the older states too. (A plain MLP over the
    concatenated window rolled out 13-30 % worse in motion at 20 steps; docs/trajectories.md.)"""

    def __init__(self, dim: int, w: int, net: NetConfig):
        super().__init__()
        self.dim = dim
        self.mlp = MLPEnergy(dim, net.hidden, label_dim=(w - 1) * dim, act=net.act, spectral_norm=net.spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.mlp(x[:, -self.dim :], x[:, : -self.dim])


def window_energy(dim: int, w: int, net: NetConfig) -> WindowEnergy:
    return WindowEnergy(dim, w, net)


class FCPredictor(nn.Module):
    """context [B, k*D] -> next step [B, D]."""

    def __init__(self, dim: int, k: int, cfg: FCConfig = FCConfig()):
        super().__init__()
        dims = (k * dim, *cfg.hidden)
        layers = [m for a, b in zip(dims[:-1], dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        self.net = nn.Sequential(*layers, nn.Linear(dims[-1], dim))

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.net(context)


class LSTMPredictor(nn.Module):
    """states [B, L, D] -> next steps [B, L, D]; ``state`` carries the memory between calls."""

    def __init__(self, dim: int, cfg: LSTMConfig = LSTMConfig()):
        super().__init__()
        self.lstm = nn.LSTM(dim, cfg.hidden_size, cfg.num_layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, dim)

    def forward(self, z: torch.Tensor, state=None):
        h, state = self.lstm(z, state)
        return self.head(h), state


TRAJECTORY_MODELS = Registry("trajectory model")  # name -> fn(dim, k, arch): arch its section's network fields


@TRAJECTORY_MODELS.register("ebm_cond")
def _ebm_cond(dim: int, k: int, arch: dict) -> nn.Module:
    return conditional_energy(dim, k, NetConfig(**arch))


@TRAJECTORY_MODELS.register("ebm_uncond")
def _ebm_uncond(dim: int, k: int, arch: dict) -> nn.Module:
    return window_energy(dim, k + 1, NetConfig(**arch))


@TRAJECTORY_MODELS.register("fc")
def _fc(dim: int, k: int, arch: dict) -> nn.Module:
    return FCPredictor(dim, k, FCConfig(**arch))


@TRAJECTORY_MODELS.register("lstm")
def _lstm(dim: int, k: int, arch: dict) -> nn.Module:
    return LSTMPredictor(dim, LSTMConfig(**arch))


@BUILDERS.register("trajectory_model")
def build_trajectory_model(name: str, dim: int, k: int, arch: dict) -> nn.Module:
    """One of the four trajectory models by name (TRAJECTORY_MODELS), ``arch`` its section's network fields."""
    return TRAJECTORY_MODELS[name](dim, k, arch)
