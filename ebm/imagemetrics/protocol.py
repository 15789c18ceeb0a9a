"""The original's sampling protocol for FID/IS (test_inception.py; openai/ebm_code_release).

``n_images`` samples are made in blocks: each block is a fresh persistent
buffer of ``n_chains`` chains (1,000 in the original) advanced for ``rounds``
rounds by ``ebm.sampling.persistent_sample`` (1% resets, 10% relabels, the last
``settle_rounds`` without either; with an ensemble one checkpoint per round),
and its final images are kept. 50 blocks of 1,000 give the paper's 50,000.

The original draws 512 of the 1,000 chains per iteration for 200 iterations;
here every chain moves every round, so ``rounds`` ~ 200 x 512 / 1000 ~ 100
gives each chain the same number of Langevin steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ebm.accel import uniform_on
from ebm.sampling import LangevinConfig, PersistentConfig, persistent_sample
from ebm.sampling.image_samples import to_uint8


def protocol_samples(
    models: Sequence[nn.Module],
    init: Callable[[int], torch.Tensor],
    n_classes: int,
    n_images: int,
    langevin_cfg: LangevinConfig,
    cfg: PersistentConfig,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """uint8 images [n_images, C, H, W] on the CPU, and their final labels (conditional models).

    ``init`` and ``generator`` live on ``device``; conditional chains start from uniformly random labels.
    """
    images, labels = [], []
    while sum(len(x) for x in images) < n_images:
        n = cfg.n_chains
        y = torch.randint(0, n_classes, (n,), generator=generator, device=device) if n_classes else None
        x, y = persistent_sample(models, init, y, n_classes, langevin_cfg, cfg, generator)
        keep = min(n, n_images - sum(len(x) for x in images))
        images.append(to_uint8(x[:keep]).cpu())
        if y is not None:
            labels.append(y[:keep].cpu())
        if progress is not None:
            progress(keep)
    return torch.cat(images), (torch.cat(labels) if labels else None)


def seeded_protocol_samples(
    models: Sequence[nn.Module],
    shape: tuple[int, ...],
    n_classes: int,
    n_images: int,
    langevin_cfg: LangevinConfig,
    cfg: PersistentConfig,
    seed: int,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``protocol_samples`` of chains from U(0, 1) noise images ``shape``; every draw comes from one generator on
    ``device`` seeded ``seed``."""
    gen = torch.Generator(device).manual_seed(seed)
    return protocol_samples(models, uniform_on(shape, device, gen), n_classes, n_images, langevin_cfg, cfg, gen, device,
                            progress=progress)
