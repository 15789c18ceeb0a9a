"""Denoising and inpainting (openai/ebm_code_release): corrupt images, restore them by masked Langevin.

The chain runs on the corrupted pixels only (mask = 1 there), conditioned on the
true label; the rest of the image keeps its values. ``restore_task`` is the protocol for
one task on one set of images; ``run`` is the restore experiment: every task on train and
held-out images, and the memorisation ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch

from ebm.config import between, ge
from ebm.sampling import LangevinConfig, langevin


@dataclass(frozen=True)
class RestoreConfig:
    pepper_prob: float = field(default=0.05, metadata=between(0, 0.5))  # share of pixels set to pepper_value
    pepper_value: float = field(default=0.1, metadata=between(0, 1))
    salt_prob: float = field(default=0.05, metadata=between(0, 0.5))  # share of pixels set to salt_value
    salt_value: float = field(default=0.9, metadata=between(0, 1))
    denoise_rounds: int = field(default=5, metadata=ge(0))  # rounds of n_steps (the original: 5)
    inpaint_rounds: int = field(default=10, metadata=ge(0))  # (the original: 10)
    denoise_mask: Literal["corrupted", "all"] = "corrupted"  # 'all': the original's whole-image chain


def salt_and_pepper(x: torch.Tensor, cfg: RestoreConfig, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
    """x [N, C, H, W] in [0, 1] -> (corrupted x, mask [N, 1, H, W] of the changed pixel locations).

    One draw per pixel location, shared across channels (as the original).
    """
    n, _, h, w = x.shape
    u = torch.rand((n, 1, h, w), generator=generator, device=x.device)
    pepper = u < cfg.pepper_prob
    salt = (u >= cfg.pepper_prob) & (u < cfg.pepper_prob + cfg.salt_prob)
    xc = torch.where(pepper, cfg.pepper_value, torch.where(salt, cfg.salt_value, x))
    return xc, (pepper | salt).float()


def bottom_half(x: torch.Tensor, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The bottom half of every image replaced by U(0, 1) noise; mask [1, 1, H, W] = 1 there."""
    h = x.shape[2]
    mask = torch.zeros((1, 1, h, x.shape[3]), device=x.device)
    mask[:, :, h // 2 :] = 1.0
    noise = torch.rand(x.shape, generator=generator, device=x.device)
    return torch.where(mask.bool(), noise, x), mask


def restore(model, xc: torch.Tensor, y: torch.Tensor | None, mask: torch.Tensor, cfg: LangevinConfig,
            rounds: int, generator=None) -> torch.Tensor:
    """rounds * cfg.n_steps Langevin steps of E(., y) on the masked pixels; the rest stays ``xc``."""
    return langevin(lambda z: model(z, y), xc, cfg, models=(model,), mask=mask,
                    n_steps=rounds * cfg.n_steps, generator=generator)


def mse_per_image(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all pixels of each image: [N]."""
    return ((a - b) ** 2).flatten(1).mean(1)


TASKS = ("denoise", "inpaint")  # salt & pepper noise; the bottom half replaced by noise


def task_rounds(cfg: RestoreConfig, task: str) -> int:
    """The rounds of n_steps Langevin steps that ``task`` restores by."""
    return cfg.denoise_rounds if task == "denoise" else cfg.inpaint_rounds


def corrupt(task: str, x: torch.Tensor, cfg: RestoreConfig, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(corrupted x, the mask of the pixels the chain may change) for ``task``."""
    if task == "denoise":
        xc, mask = salt_and_pepper(x, cfg, generator)
        return xc, (mask if cfg.denoise_mask == "corrupted" else torch.ones_like(mask))
    return bottom_half(x, generator)


def restore_task(model, task: str, x: torch.Tensor, y: torch.Tensor, cfg: RestoreConfig, langevin_cfg: LangevinConfig,
                 generator=None, classify: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """Corrupt images x (labels y) for ``task`` and restore them under y: (corrupted, restored, metrics).

    Metrics: the MSE to x of the restored and of the corrupted images and, given ``classify`` (images ->
    predicted labels), the share of each still read as y (``class_kept``, ``class_kept_corrupted``).
    """
    xc, mask = corrupt(task, x, cfg, generator)
    xr = restore(model, xc, y, mask, langevin_cfg, task_rounds(cfg, task), generator)
    m = {"mse": float(mse_per_image(xr, x).mean()), "mse_corrupted": float(mse_per_image(xc, x).mean())}
    if classify is not None:
        m |= {"class_kept": float((classify(xr) == y).float().mean()),
              "class_kept_corrupted": float((classify(xc) == y).float().mean())}
    return xc, xr, m


def memorisation_ratios(metrics: dict[str, dict]) -> dict[str, float]:
    """Per task, held-out over train restored MSE from the ``<task>_<split>`` metrics: > 1, held-out images
    restore worse than train ones (the original's memorisation check)."""
    return {f"{task}_test_over_train_mse": metrics[f"{task}_test"]["mse"] / max(metrics[f"{task}_train"]["mse"], 1e-12)
            for task in TASKS}


@dataclass(frozen=True)
class RestoreResult:
    metrics: dict  # "<task>_<split>": restore_task's metrics; "<task>_test_over_train_mse": memorisation_ratios
    images: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (task, split) -> (corrupted,
    #                                                                                   restored, clean)


def run(model, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], cfg: RestoreConfig, langevin_cfg: LangevinConfig,
        generator=None, classify: Callable[[torch.Tensor], torch.Tensor] | None = None,
        on_task: Callable[[str, str], None] | None = None) -> RestoreResult:
    """Every task of ``TASKS`` on each split's images (``splits``: name -> (x, y), "train" and "test" for the
    ratios), in that order, which is the order of the generator's draws; on_task(task, split) after each."""
    metrics, images = {}, {}
    for split, (x, y) in splits.items():
        for task in TASKS:
            xc, xr, metrics[f"{task}_{split}"] = restore_task(model, task, x, y, cfg, langevin_cfg, generator, classify)
            images[(task, split)] = (xc, xr, x)
            if on_task is not None:
                on_task(task, split)
    return RestoreResult(metrics | memorisation_ratios(metrics), images)
