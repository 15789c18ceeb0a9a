"""Helpers shared by all image datasets."""

from __future__ import annotations

import numpy as np
import torch


def dequantize(q: torch.Tensor, generator: torch.Generator | None = None, noise: bool = True) -> torch.Tensor:
    """uint8 images -> floats in [0, 1), with uniform dequantisation noise (as the original)."""
    q = q.float()
    if not noise:
        return q / 255.0
    return (q + torch.rand(q.shape, generator=generator)) / 256.0


def uniform_like(shape: tuple[int, ...], generator: torch.Generator | None = None):
    """Chain initialisation: U(0, 1) per pixel, n -> [n, *shape]."""
    return lambda n: torch.rand((n, *shape), generator=generator)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with the same class proportions; fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(idx) * test_fraction))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
