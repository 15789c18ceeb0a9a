"""A plain CNN classifier for small images: scores samples and gives features for FD."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.config import gt


@dataclass(frozen=True)
class ClassifierConfig:
    epochs: int = field(default=30, metadata=gt(0))
    batch_size: int = field(default=64, metadata=gt(0))
    lr: float = field(default=1e-3, metadata=gt(0))
    width: int = field(default=32, metadata=gt(0))


@BUILDERS.register("classifier")
class SmallCNN(nn.Module):
    """conv-conv-pool-conv-pool -> 2*width features -> n_classes logits."""

    def __init__(self, in_channels: int = 1, n_classes: int = 10, width: int = 32):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(2 * w, 2 * w), nn.ReLU(),
        )
        self.out = nn.Linear(2 * w, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # [B, 2w], the penultimate layer
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: ClassifierConfig,
                     generator: torch.Generator | None = None) -> Iterator[float]:
    """Adam on cross-entropy; yields the mean loss of each epoch. ``x`` floats in [0, 1]."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.epochs):
        model.train()
        perm = torch.randperm(x.shape[0], generator=generator)
        total = 0.0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        yield total / len(perm)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [N, classes], features [N, D]) in eval mode."""
    model.eval()
    feats, logits = [], []
    for i in range(0, x.shape[0], batch_size):
        f = model.features(x[i : i + batch_size])
        feats.append(f)
        logits.append(model.out(f))
    return torch.cat(logits), torch.cat(feats)
