"""Image samples as sample@ and fid@ write them: PNG grids logged to the run, the arrays of samples.npz."""

from __future__ import annotations

import numpy as np
import torch

from stages.common.io import save_grid
from stages.common.paths import images_dir


def log_grid(run, stage: str, variant: str, name: str, images: torch.Tensor, scale: int = 4) -> None:
    """plots/images/<stage>/<variant>/<name>.png (images in [0, 1]), also an artifact of ``run``."""
    grid = images_dir(stage, variant) / f"{name}.png"
    save_grid(grid, images, scale=scale)
    run.log_artifact(grid)


def sample_arrays(name: str, images: torch.Tensor, labels: torch.Tensor | None) -> dict[str, np.ndarray]:
    """``name`` -> the images and, where there are labels, ``<name>_labels`` -> the labels."""
    return {name: images.numpy(), **({f"{name}_labels": labels.numpy()} if labels is not None else {})}
