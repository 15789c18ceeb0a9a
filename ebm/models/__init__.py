"""Energy networks by name: ``build_energy("digits_resnet", in_channels=1, label_dim=10)``."""

from __future__ import annotations

from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.models.mlp import MLPEnergy
from ebm.models.mnist import MnistEnergy
from ebm.models.networks import NETWORKS
from ebm.models.resnet import ResNetEnergy
from ebm.models.spectral import power_iteration, sn_vectors


@BUILDERS.register("energy")  # checkpoint args: name, in_channels, label_dim, image_size
def build_energy(name: str, in_channels: int, label_dim: int = 0, image_size: int | None = None) -> nn.Module:
    """The energy network ``name`` (one of NETWORKS); ``label_dim = 0`` gives an unconditional model."""
    return NETWORKS[name](in_channels, label_dim, image_size)


__all__ = ["NETWORKS", "MLPEnergy", "MnistEnergy", "ResNetEnergy", "build_energy", "power_iteration", "sn_vectors"]
