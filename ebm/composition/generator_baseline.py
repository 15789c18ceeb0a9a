"""The conditional generator baseline of the cross-product experiment (the original's ``genbaseline``).

The original maps N(0, 1) noise (128-d) and the label to an image with a
decoder ``DspritesNetGen`` that is missing from its repository; here an MLP
decoder, trained the same way: pixel MSE to the training image of that label.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn


class CondGenerator(nn.Module):
    def __init__(self, label_dim: int, z_dim: int, image_size: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        self.z_dim, self.image_size = z_dim, image_size
        dims = (label_dim + z_dim, *hidden)
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(dims[-1], image_size * image_size))

    def forward(self, y: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """labels [B, L] (+ noise [B, z_dim]) -> images [B, 1, S, S] in (0, 1)."""
        if z is None:
            z = torch.randn(y.shape[0], self.z_dim)
        out = self.net(torch.cat([y, z], dim=1)).sigmoid()
        return out.view(-1, 1, self.image_size, self.image_size)


def train_generator(model: CondGenerator, y: torch.Tensor, x: torch.Tensor, steps: int, batch_size: int,
                    lr: float, generator: torch.Generator | None = None) -> Iterator[float]:
    """Adam (β1 0.9, as the original) on pixel MSE; yields each step's loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch_size,), generator=generator)
        z = torch.randn(batch_size, model.z_dim, generator=generator)
        loss = F.mse_loss(model(y[idx], z), x[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        yield loss.item()


@torch.no_grad()
def generate(model: CondGenerator, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    model.eval()
    return model(y, torch.randn(y.shape[0], model.z_dim, generator=generator))
