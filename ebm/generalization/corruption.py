"""Denoising and inpainting (openai/ebm_code_release): corrupt images, restore them by masked Langevin.

The chain runs on the corrupted pixels only (mask = 1 there), conditioned on the
true label; the rest of the image keeps its values.
"""

from __future__ import annotations

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
