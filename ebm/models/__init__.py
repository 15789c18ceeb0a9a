"""Energy networks by name: ``build_energy("digits_resnet", in_channels=1, label_dim=10)``."""

from __future__ import annotations

from torch import nn

from ebm.checkpoint import register
from ebm.models.mlp import MLPEnergy
from ebm.models.mnist import MnistEnergy
from ebm.models.resnet import SPECS, ResNetEnergy
from ebm.models.spectral import power_iteration, sn_vectors

NETWORKS = (*SPECS, "mnist", "mlp")


@register("energy")  # checkpoint args: name, in_channels, label_dim, image_size
def build_energy(name: str, in_channels: int, label_dim: int = 0, image_size: int | None = None) -> nn.Module:
    """The energy network ``name``; ``label_dim = 0`` gives an unconditional model."""
    if name in SPECS:
        return ResNetEnergy(SPECS[name], in_channels, label_dim)
    if name == "mnist":
        return MnistEnergy(in_channels, label_dim)
    if name == "mlp":
        return MLPEnergy(in_channels * (image_size or 1) ** 2, label_dim=label_dim)
    raise ValueError(f"unknown network {name!r} (allowed: {', '.join(NETWORKS)})")


__all__ = ["NETWORKS", "MLPEnergy", "MnistEnergy", "ResNetEnergy", "build_energy", "power_iteration", "sn_vectors"]
