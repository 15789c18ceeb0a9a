"""train_factor's checkpoint: one factor's EBM packed with its architecture (what factor_from_checkpoint in
stages/common/composition.py rebuilds it from)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from torch import nn

from ebm.checkpoint import pack
from ebm.composition.dsprites import LABEL_DIMS
from stages.common.io import save_torch
from stages.common.paths import composition_model
from stages.common.sections.composition import NetParams


def save_factor(model: nn.Module, factor: str, net: NetParams, label_gain: bool, d_in: int, image_size: int) -> Path:
    """Writes models/composition/factor_<factor>/model.pt; returns its path."""
    arch = {"d_in": d_in, "hidden": list(net.hidden), "label_dim": LABEL_DIMS[factor], "act": net.act,
            "spectral_norm": net.spectral_norm, "label_gain": label_gain}
    path = composition_model(f"factor_{factor}") / "model.pt"
    save_torch(path, pack("mlp_energy", arch, model, factor=factor, image_size=image_size, net=asdict(net)))
    return path
