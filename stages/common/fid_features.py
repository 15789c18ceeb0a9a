"""The Inception features fid@ scores with: its reference images (the dataset's train + test images, as the
original's 60,000 of CIFAR-10, or the test split only: ImageNet's validation set), feature extraction with a
progress bar, and the stage's one-line summary of the scores."""

from __future__ import annotations

import torch
from tqdm import tqdm

from ebm.imagemetrics import extract
from stages.common.data import load_split


def reference_images(dataset: str, which: str, n: int, seed: int) -> torch.Tensor:
    """uint8 images of ``dataset`` (train + test, or test only); ``n`` > 0 keeps a random n of them."""
    splits = ("train", "test") if which == "all" else ("test",)
    x = torch.cat([load_split(dataset, s)[0] for s in splits])
    if n and n < len(x):
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]
    return x


def features(net, images, score_cfg, device, what):
    with tqdm(total=len(images), desc=what, unit="img") as bar:
        return extract(net, images, score_cfg.batch_size, device, progress=bar.update)


def summary(variant: str, scores: dict, n_images: int, n_reference: int) -> str:
    return f"fid@{variant}: " + "; ".join(
        f"{m}: FID {s['fid']:.2f}, IS {s['is_mean']:.2f} +- {s['is_std']:.2f}, KID {s['kid_mean']:.4f}"
        for m, s in scores.items()) + f" ({n_images} samples vs {n_reference} real images)"
