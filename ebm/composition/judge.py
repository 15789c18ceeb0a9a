"""The factor judge: one small network that reads every dSprites factor off an image.

Heads: shape (3 logits), scale (6 logits), position (x, y regressed), rotation
(cos 4θ, sin 4θ regressed). Rotation is read modulo 90°: a square looks the
same every 90° and an ellipse every 180°, so only 4θ is a function of the image
for every shape. A sample "shows" an asked factor when the judge's reading is
within the tolerances of ``JudgeTolerance`` (chance levels are reported beside).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ebm.composition.dsprites import FACTORS
from ebm.config import ge, gt


@dataclass(frozen=True)
class JudgeConfig:
    epochs: int = field(default=4, metadata=gt(0))
    batch_size: int = field(default=128, metadata=gt(0))
    lr: float = field(default=2e-3, metadata=gt(0))
    hidden: tuple[int, ...] = (256, 128)


@dataclass(frozen=True)
class JudgeTolerance:
    size_tol: int = field(default=1, metadata=ge(0))  # scale classes off (of 6, 0.1 apart)
    position_tol: float = field(default=0.1, metadata=gt(0))  # Euclidean, in [0, 1] position units
    rotation_tol_deg: float = field(default=15.0, metadata=gt(0))  # angle modulo 90 degrees


class FactorJudge(nn.Module):
    """An MLP on the pixels: on 16x16 sprites it reads the factors as well as a small CNN
    trained for the same time, at a tenth of the cost (what the CPU budget allows)."""

    def __init__(self, image_size: int = 16, hidden: tuple[int, ...] = (256, 128)):
        super().__init__()
        dims = (image_size * image_size, *hidden)
        layers = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.heads = nn.ModuleDict({"shape": nn.Linear(dims[-1], 3), "size": nn.Linear(dims[-1], 6),
                                    "position": nn.Linear(dims[-1], 2), "rotation": nn.Linear(dims[-1], 2)})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # x [B, 1, S, S] in [0, 1]
        h = self.body(x)
        return {k: head(h) for k, head in self.heads.items()}


def judge_loss(out: dict, classes: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on shape and scale class, MSE on position and on (cos 4θ, sin 4θ)."""
    four = 4 * values[:, 2]
    return (F.cross_entropy(out["shape"], classes[:, 0]) + F.cross_entropy(out["size"], classes[:, 1])
            + 10 * F.mse_loss(out["position"], values[:, 3:5])
            + F.mse_loss(out["rotation"], torch.stack([four.cos(), four.sin()], dim=1)))


def train_judge(model: FactorJudge, x: torch.Tensor, classes: torch.Tensor, values: torch.Tensor,
                cfg: JudgeConfig, generator: torch.Generator | None = None) -> Iterator[float]:
    """Adam; yields the mean loss of each epoch. ``x`` floats in [0, 1]."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.epochs):
        model.train()
        perm, total = torch.randperm(len(x), generator=generator), 0.0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            loss = judge_loss(model(x[idx]), classes[idx], values[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        yield total / len(perm)


@torch.no_grad()
def read_factors(model: FactorJudge, x: torch.Tensor, batch_size: int = 1024) -> dict[str, torch.Tensor]:
    """The judge's readings: shape and scale class [N], position [N, 2], 4θ [N] (radians)."""
    model.eval()
    outs = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    out = {k: torch.cat([o[k] for o in outs]) for k in outs[0]}
    return {"shape": out["shape"].argmax(1), "size": out["size"].argmax(1), "position": out["position"],
            "rotation": torch.atan2(out["rotation"][:, 1], out["rotation"][:, 0])}


def reading_errors(read: dict, classes: torch.Tensor, values: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per sample [N]: shape read wrong (0/1), scale classes off, position distance, angle error in
    degrees modulo 90, against the asked factors (classes/values [N, 5])."""
    d4 = read["rotation"] - 4 * values[:, 2]
    return {
        "shape": (read["shape"] != classes[:, 0]).float(),
        "size": (read["size"] - classes[:, 1]).abs().float(),
        "position": (read["position"] - values[:, 3:5]).norm(dim=1),
        "rotation": torch.rad2deg(torch.atan2(d4.sin(), d4.cos()).abs() / 4),
    }


def factor_hits(read: dict, classes: torch.Tensor, values: torch.Tensor, tol: JudgeTolerance) -> dict[str, torch.Tensor]:
    """bool [N] per factor: the reading matches the asked factor within the tolerances."""
    err = reading_errors(read, classes, values)
    return {"shape": err["shape"] == 0, "size": err["size"] <= tol.size_tol,
            "position": err["position"] <= tol.position_tol, "rotation": err["rotation"] <= tol.rotation_tol_deg}


def shows_all(hits: dict[str, torch.Tensor], asked: tuple[str, ...]) -> torch.Tensor:
    """bool [N]: every asked factor is shown."""
    for f in asked:
        if f not in FACTORS:
            raise ValueError(f"unknown factor {f!r} (allowed: {', '.join(FACTORS)})")
    return torch.stack([hits[f] for f in asked]).all(dim=0)
