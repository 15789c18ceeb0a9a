"""The energy networks by name: each network's module registers its builder here."""

from __future__ import annotations

from ebm.registry import Registry

NETWORKS = Registry("network")  # name -> fn(in_channels, label_dim, image_size): an untrained energy network
