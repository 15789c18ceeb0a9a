"""toy2d's two EBMs: each trained on its density with the logged fit loop, then saved as checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch

from ebm.checkpoint import pack
from ebm.composition import toy2d
from ebm.training import Trainer, random_batches
from stages.common.composition import train_loop
from stages.common.io import atomic_path, save_torch
from stages.common.sections.composition import NetParams, Toy2DParams


def train(name, cfg, net, train_cfg, langevin_cfg, run) -> tuple[torch.nn.Module, list[dict]]:
    """The EBM of density ``name`` (eval mode, frozen) and its training curve, logged as ``<name>.*``."""
    x = toy2d.sample(name, cfg.n_points)
    model = toy2d.ToyEnergy(net.hidden, net.act, net.spectral_norm, cfg.input_scale)
    trainer = Trainer(model, train_cfg, langevin_cfg, lambda n: torch.rand(n, 2), quantize_buffer=False)
    rows = train_loop(trainer, random_batches(x, None, train_cfg.batch_size), train_cfg.n_iters, net.log_every,
                      run, f"toy2d {name}", f"{name}.")
    return model.eval().requires_grad_(False), rows


def save_models(models: dict[str, torch.nn.Module], net: NetParams, cfg: Toy2DParams, out: Path) -> None:
    """``out``/<name>.pt per EBM, the folder replaced as a whole."""
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        for name, model in models.items():
            save_torch(tmp / f"{name}.pt", pack("toy_energy", {"hidden": list(net.hidden), "act": net.act,
                                                               "spectral_norm": net.spectral_norm,
                                                               "input_scale": cfg.input_scale}, model))
