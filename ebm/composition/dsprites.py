"""dSprites: a renderer that follows the real dataset's factors, and the real file's layout.

The real file (``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``) holds ``imgs``
uint8 {0,1} [737280, 64, 64] and, per image, ``latents_values`` / ``latents_classes``
[N, 6] over (color, shape, scale, orientation, posX, posY) with sizes
(1, 3, 6, 40, 32, 32), in C order. ``render_grid`` makes the same layout at any
image size (anti-aliased: coverage from a signed distance, so that half-pixel
moves and small rotations stay visible at 16x16); ``from_arrays`` reads that
layout (the real file's too), area-averaged down to the asked size.

Geometry of the renderer (fractions of the image width): a shape of scale s has
half-size 0.22 s; its centre moves over [0.28, 0.72] as pos goes 0 -> 1.
Shapes: 0 square, 1 ellipse (axes 1 : 0.5), 2 heart, as the real file's 1, 2, 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

SHAPES = ("square", "ellipse", "heart")
SIZES = (3, 6, 40, 32, 32)  # shape, scale, orientation, posX, posY (color dropped: always 1)
SCALES = torch.linspace(0.5, 1.0, 6)
ORIENTATIONS = torch.linspace(0.0, 2 * math.pi, 40)
POSITIONS = torch.linspace(0.0, 1.0, 32)
HALF_SIZE, MARGIN = 0.22, 0.28
FACTORS = ("size", "shape", "position", "rotation")
LABEL_DIMS = {"size": 1, "shape": 3, "position": 2, "rotation": 2}


@dataclass(frozen=True)
class DSprites:
    """Images with their factors; one row per image."""

    images: torch.Tensor  # uint8 [N, 1, S, S], 0..255
    classes: torch.Tensor  # int64 [N, 5] (shape, scale, orientation, posX, posY) indices
    values: torch.Tensor  # float [N, 5] (shape index, scale, angle in radians, x, y)

    def __len__(self) -> int:
        return self.images.shape[0]


def grid_classes() -> torch.Tensor:
    """Every combination of the factors in the real file's order: int64 [737280, 5]."""
    axes = [torch.arange(n) for n in SIZES]
    return torch.cartesian_prod(*axes)


def class_values(classes: torch.Tensor) -> torch.Tensor:
    """factor indices [N, 5] -> values [N, 5] (shape index, scale, angle, x, y)."""
    return torch.stack([classes[:, 0].float(), SCALES[classes[:, 1]], ORIENTATIONS[classes[:, 2]],
                        POSITIONS[classes[:, 3]], POSITIONS[classes[:, 4]]], dim=1)


def factor_labels(values: torch.Tensor, factor: str) -> torch.Tensor:
    """The conditioning vector of one factor, as the original (openai/ebm_code_release): [N, LABEL_DIMS[factor]]."""
    if factor == "size":
        return values[:, 1:2]
    if factor == "shape":
        return F.one_hot(values[:, 0].long(), 3).float()
    if factor == "position":
        return values[:, 3:5]
    if factor == "rotation":
        return torch.stack([values[:, 2].cos(), values[:, 2].sin()], dim=1)
    raise ValueError(f"unknown factor {factor!r} (allowed: {', '.join(FACTORS)})")


# --- the renderer: signed distances in the shape's own frame (half-size 1) ---

def _sd_square(p: torch.Tensor) -> torch.Tensor:
    q = p.abs() - 1.0
    return q.clamp(min=0).norm(dim=-1) + q.max(dim=-1).values.clamp(max=0)


def _sd_ellipse(p: torch.Tensor, ab=(1.0, 0.5)) -> torch.Tensor:
    ab = p.new_tensor(ab)
    k0 = (p / ab).norm(dim=-1)
    k1 = (p / ab**2).norm(dim=-1).clamp(min=1e-6)
    return k0 * (k0 - 1.0) / k1  # a close approximation near the boundary


def _sd_heart(p: torch.Tensor) -> torch.Tensor:
    # Inigo Quilez's heart (tip at the origin, top near y = 1.1), fitted into [-1, 1]^2
    k = 1.8
    x, y = (p[..., 0] / k).abs(), -p[..., 1] / k + 0.55  # flip: tip at the bottom of the image
    upper = ((x - 0.25) ** 2 + (y - 0.75) ** 2).sqrt() - math.sqrt(2) / 4
    m = (x + y).clamp(min=0) * 0.5
    lower = torch.minimum(x**2 + (y - 1) ** 2, (x - m) ** 2 + (y - m) ** 2).sqrt() * torch.sign(x - y)
    return torch.where(x + y > 1, upper, lower) * k


_SDF = (_sd_square, _sd_ellipse, _sd_heart)


def render(values: torch.Tensor, image_size: int) -> torch.Tensor:
    """values [N, 5] -> uint8 images [N, 1, S, S]: pixel coverage of the shape, 0..255."""
    s = image_size
    c = (torch.arange(s, dtype=torch.float32) + 0.5) / s  # pixel centres in [0, 1]
    py, px = torch.meshgrid(c, c, indexing="ij")  # row = y (down), column = x
    shape, scale, angle = values[:, 0].long(), values[:, 1], values[:, 2]
    cx = MARGIN + values[:, 3] * (1 - 2 * MARGIN)
    cy = MARGIN + values[:, 4] * (1 - 2 * MARGIN)
    half = HALF_SIZE * scale  # [N]
    dx = px[None] - cx[:, None, None]  # [N, S, S]
    dy = py[None] - cy[:, None, None]
    cos, sin = angle.cos()[:, None, None], angle.sin()[:, None, None]
    local = torch.stack([cos * dx + sin * dy, -sin * dx + cos * dy], dim=-1) / half[:, None, None, None]
    sd = torch.empty(dx.shape)
    for k, fn in enumerate(_SDF):
        rows = shape == k
        if rows.any():
            sd[rows] = fn(local[rows]) * half[rows, None, None]  # back to image units
    cover = (0.5 - sd * s).clamp(0, 1)  # a straight edge across a pixel: coverage ~ 0.5 - distance/pixel
    return (cover * 255).round().to(torch.uint8)[:, None]


def render_grid(image_size: int, classes: torch.Tensor | None = None, chunk: int = 16384) -> DSprites:
    """The renderer's dataset: every combination (or the given ``classes``), in chunks."""
    classes = grid_classes() if classes is None else classes
    values = class_values(classes)
    images = torch.cat([render(values[i : i + chunk], image_size) for i in range(0, len(values), chunk)])
    return DSprites(images, classes, values)


def codes(classes: np.ndarray | torch.Tensor) -> np.ndarray:
    """Row number of each combination in the full grid (the real file's order): [N]."""
    return np.ravel_multi_index(tuple(np.asarray(classes).T), SIZES)


def find_rows(have: np.ndarray | torch.Tensor, want: np.ndarray | torch.Tensor) -> np.ndarray:
    """Row of each wanted combination (factor indices [K, 5]) among ``have`` [N, 5].

    Raises:
        ValueError: a wanted combination is not there.
    """
    have, want = codes(have), codes(want)
    order = np.argsort(have)
    pos = np.searchsorted(have, want, sorter=order).clip(max=max(len(have) - 1, 0))
    found = have[order[pos]] == want if len(have) else np.zeros(len(want), bool)
    if not found.all():
        missing = np.stack(np.unravel_index(want[~found][:1], SIZES), axis=1)[0]
        raise ValueError(f"no image of the combination {missing.tolist()} (shape, scale, orientation, x, y)")
    return order[pos]


def select_classes(n_images: int, keep_orientation: int | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A random subset of the grid (all of it if ``n_images`` = 0), plus every combination at
    orientation ``keep_orientation`` (the cross-product slice); sorted in the grid's order."""
    total = math.prod(SIZES)
    rows = torch.randperm(total, generator=generator)[:n_images] if n_images else torch.arange(total)
    if keep_orientation is not None:
        grid = grid_classes()
        rows = torch.cat([rows, torch.nonzero(grid[:, 2] == keep_orientation).squeeze(1)])
    rows = torch.unique(rows)  # sorted
    return torch.from_numpy(np.stack(np.unravel_index(rows.numpy(), SIZES), axis=1).astype(np.int64))


def to_arrays(data: DSprites) -> dict[str, np.ndarray]:
    """The real file's layout (imgs [N, S, S] here 0..255; latents [N, 6] with color first)."""
    n = len(data)
    ones = np.ones((n, 1))
    return {"imgs": data.images[:, 0].numpy(),
            "latents_classes": np.concatenate([0 * ones, data.classes.numpy()], axis=1).astype(np.int64),
            "latents_values": np.concatenate([ones, data.values.numpy().astype(np.float64)], axis=1)}


def from_arrays(arrays: Mapping[str, np.ndarray], image_size: int, classes: torch.Tensor | None = None) -> DSprites:
    """Arrays in the real file's layout -> DSprites at ``image_size``.

    Takes the real file (imgs {0, 1} at 64x64) or ``to_arrays``'s output (0..255).
    With ``classes``, only those combinations, in that order. Images are
    area-averaged down to ``image_size``. Values are recomputed from the classes
    (the real file's shape values are 1..3; here shape is the 0-based class).

    Raises:
        ValueError: a missing key, wrong shapes, a size that does not divide the
            file's, or an asked combination the file does not hold.
    """
    for key in ("imgs", "latents_values", "latents_classes"):
        if key not in arrays:
            raise ValueError(f"no array {key!r}")
    imgs, lc = arrays["imgs"], arrays["latents_classes"]
    if imgs.ndim != 3 or lc.shape != (len(imgs), 6) or arrays["latents_values"].shape != (len(imgs), 6):
        raise ValueError("expected imgs [N, H, W] and latents_values / latents_classes [N, 6]")
    side = imgs.shape[-1]
    if side % image_size:
        raise ValueError(f"image size {image_size} does not divide the file's {side}")
    rows = np.arange(len(imgs)) if classes is None else find_rows(lc[:, 1:], classes)
    peak = 1.0 if imgs.max(initial=0) <= 1 else 255.0  # the real file is binary
    chunks = []
    for i in range(0, len(rows), 16384):  # in chunks: the full real file is 12 GB as floats
        x = torch.from_numpy(imgs[rows[i : i + 16384]].astype(np.float32) / peak)[:, None]
        chunks.append((F.avg_pool2d(x, side // image_size) * 255).round().to(torch.uint8))
    images = torch.cat(chunks) if chunks else torch.zeros((0, 1, image_size, image_size), dtype=torch.uint8)
    cls = torch.from_numpy(lc[rows, 1:].astype(np.int64))
    return DSprites(images, cls, class_values(cls))
