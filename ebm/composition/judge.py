"""The factor judge: one small network that reads every dSprites factor off an image.

Heads: shape (3 logits), scale (6 logits), position (x, y regressed), rotation
(cos kθ, sin kθ regressed for k = 1, 2, 4). Rotation is read modulo each shape's
symmetry: a square looks the same every 90° (k = 4), an ellipse every 180° (k = 2),
a heart only every 360° (k = 1), so kθ of the shape in the image is what the image
shows; the judge learns each k on the shapes it belongs to and reads the one of the
shape it sees. A sample "shows" an asked factor when the judge's reading is within
the tolerances of ``JudgeTolerance`` (chance levels are reported beside).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.composition.dsprites import FACTORS
from ebm.config import ge, gt

SYMMETRY = torch.tensor([4, 2, 1])  # rotational symmetry order of square, ellipse, heart (SHAPES' order)
PAIR = torch.tensor([2, 1, 0])  # per shape, its (cos kθ, sin kθ) pair in the rotation head (k = 1, 2, 4)


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
    rotation_tol_deg: float = field(default=15.0, metadata=gt(0))  # angle modulo the shape's symmetry


@BUILDERS.register("factor_judge")
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
                                    "position": nn.Linear(dims[-1], 2), "rotation": nn.Linear(dims[-1], 6)})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # x [B, 1, S, S] in [0, 1]
        h = self.body(x)
        return {k: head(h) for k, head in self.heads.items()}


def rotation_pair(rotation: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    """[N, 6] head output -> the (cos kθ, sin kθ) pair [N, 2] of each row's shape."""
    return rotation.view(-1, 3, 2)[torch.arange(len(shape)), PAIR[shape]]


def judge_loss(out: dict, classes: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on shape and scale class, MSE on position and on (cos kθ, sin kθ) of the true shape."""
    k_theta = SYMMETRY[classes[:, 0]] * values[:, 2]
    return (F.cross_entropy(out["shape"], classes[:, 0]) + F.cross_entropy(out["size"], classes[:, 1])
            + 10 * F.mse_loss(out["position"], values[:, 3:5])
            + F.mse_loss(rotation_pair(out["rotation"], classes[:, 0]), torch.stack([k_theta.cos(), k_theta.sin()], 1)))


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
    """The judge's readings: shape and scale class [N], position [N, 2], and kθ [N] (radians) with k
    the symmetry order of the shape it reads."""
    model.eval()
    outs = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    out = {k: torch.cat([o[k] for o in outs]) for k in outs[0]}
    shape = out["shape"].argmax(1)
    pair = rotation_pair(out["rotation"], shape)
    return {"shape": shape, "size": out["size"].argmax(1), "position": out["position"],
            "rotation": torch.atan2(pair[:, 1], pair[:, 0])}


def reading_errors(read: dict, classes: torch.Tensor, values: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per sample [N]: shape read wrong (0/1), scale classes off, position distance, angle error in
    degrees modulo the symmetry of the shape read (90° square, 180° ellipse, 360° heart), against the
    asked factors (classes/values [N, 5])."""
    k = SYMMETRY[read["shape"]].float()
    dk = read["rotation"] - k * values[:, 2]
    return {
        "shape": (read["shape"] != classes[:, 0]).float(),
        "size": (read["size"] - classes[:, 1]).abs().float(),
        "position": (read["position"] - values[:, 3:5]).norm(dim=1),
        "rotation": torch.rad2deg(torch.atan2(dk.sin(), dk.cos()).abs() / k),
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
