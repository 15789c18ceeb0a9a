"""FID, Inception Score and KID through torchmetrics, on features computed once.

The feature network maps uint8 images [B, 3, H, W] to (pool features [B, D],
logits [B, K]); for the standard numbers it is torch-fidelity's port of the
TF Inception graph ``inception-2015-12-05`` (pool_3: D = 2048, logits_unbiased:
K = 1008), the network the original's inception.py / fid.py used. Each image
goes through the network once; torchmetrics then computes FID (float64 means
and covariances), IS (splits, mean +- std) and KID (random subsets) from the
stored features, so any feature network works (the tests use a small one).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

from ebm.config import gt


@dataclass(frozen=True)
class ScoreConfig:
    batch_size: int = field(default=250, metadata=gt(0))  # images per feature-network forward
    is_splits: int = field(default=10, metadata=gt(0))  # the original: 10 splits of 5,000
    kid_subsets: int = field(default=100, metadata=gt(0))
    kid_subset_size: int = field(default=1000, metadata=gt(0))  # capped at the number of images


class Given(nn.Module):
    """The metric's "network" when features are already computed: the identity."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return f


@torch.no_grad()
def extract(net: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device,
            progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images [N, C, H, W] (C = 1 or 3) -> (features [N, D], logits [N, K]) on the CPU."""
    feats, logits = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device)
        if x.shape[1] == 1:  # grayscale (digits, MNIST): the network wants RGB
            x = x.expand(-1, 3, -1, -1)
        f, lg = net(x)
        feats.append(f.double().cpu())
        logits.append(lg.double().cpu())
        if progress is not None:
            progress(len(x))
    return torch.cat(feats), torch.cat(logits)


def image_scores(real_feats: torch.Tensor, fake_feats: torch.Tensor, fake_logits: torch.Tensor,
                 cfg: ScoreConfig, seed: int = 0) -> dict[str, float]:
    """FID and KID of the fakes against the reals, and the fakes' Inception Score."""
    # Imported here: torchmetrics.image takes seconds to import, and every stage imports this package's config.
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.inception import InceptionScore
    from torchmetrics.image.kid import KernelInceptionDistance

    with warnings.catch_warnings():  # "will save all extracted features": they are features already, and small
        warnings.filterwarnings("ignore", message=".*will save all extracted features")
        fid = FrechetInceptionDistance(Given(real_feats.shape[1]))
        size = min(cfg.kid_subset_size, len(real_feats), len(fake_feats))
        kid = KernelInceptionDistance(Given(real_feats.shape[1]), subsets=cfg.kid_subsets, subset_size=size)
        inception = InceptionScore(Given(fake_logits.shape[1]), splits=min(cfg.is_splits, len(fake_logits)))
    for metric in (fid, kid):
        metric.update(real_feats, real=True)
        metric.update(fake_feats, real=False)
    inception.update(fake_logits)
    with torch.random.fork_rng():  # KID's subsets and IS's split order are random: fixed by the seed
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()
        is_mean, is_std = inception.compute()
    return {"fid": float(fid.compute()), "is_mean": float(is_mean), "is_std": float(is_std),
            "kid_mean": float(kid_mean), "kid_std": float(kid_std)}
