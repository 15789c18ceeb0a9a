"""2-D toy densities for the sum-of-EBMs illustration (the paper's Figure 14).

Two densities on [0, 1]^2 whose supports cross in two small regions: a ring and
a horizontal band. The product of the two lives in the crossings only, so the
share of samples inside *both* supports tells whether a sampler draws from the
product (near 1) or from either factor alone (about 0.3 and 0.2).
A point is inside a support when it is within ``SUPPORT_SIGMAS`` standard
deviations of the density's core.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ebm.checkpoint import BUILDERS
from ebm.composition.compose import Scheme, compose_langevin
from ebm.models.mlp import MLPEnergy
from ebm.sampling import LangevinConfig

DENSITIES = ("ring", "band")
SUPPORT_SIGMAS = 3.0
RING_CENTRE, RING_RADIUS, RING_STD = (0.5, 0.5), 0.3, 0.02
BAND_Y, BAND_STD, BAND_X = 0.7, 0.03, (0.05, 0.95)


def sample(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n points [n, 2] of density ``name``."""
    if name == "ring":
        phi = 2 * math.pi * torch.rand(n, generator=generator)
        r = RING_RADIUS + RING_STD * torch.randn(n, generator=generator)
        return torch.stack([RING_CENTRE[0] + r * phi.cos(), RING_CENTRE[1] + r * phi.sin()], dim=1)
    if name == "band":
        x = BAND_X[0] + (BAND_X[1] - BAND_X[0]) * torch.rand(n, generator=generator)
        y = BAND_Y + BAND_STD * torch.randn(n, generator=generator)
        return torch.stack([x, y], dim=1)
    raise ValueError(f"unknown density {name!r} (allowed: {', '.join(DENSITIES)})")


def inside(name: str, x: torch.Tensor) -> torch.Tensor:
    """bool [n]: x [n, 2] lies in the support of density ``name``."""
    if name == "ring":
        r = (x - x.new_tensor(RING_CENTRE)).norm(dim=1)
        return (r - RING_RADIUS).abs() < SUPPORT_SIGMAS * RING_STD
    if name == "band":
        in_x = (x[:, 0] > BAND_X[0] - SUPPORT_SIGMAS * BAND_STD) & (x[:, 0] < BAND_X[1] + SUPPORT_SIGMAS * BAND_STD)
        return in_x & ((x[:, 1] - BAND_Y).abs() < SUPPORT_SIGMAS * BAND_STD)
    raise ValueError(f"unknown density {name!r} (allowed: {', '.join(DENSITIES)})")


def support_shares(x: torch.Tensor) -> dict[str, float]:
    """Share of points inside each support and inside all of them."""
    masks = {name: inside(name, x) for name in DENSITIES}
    both = torch.stack(list(masks.values())).all(dim=0)
    return {**{f"in_{k}": v.float().mean().item() for k, v in masks.items()}, "in_both": both.float().mean().item()}


def energy_grid(energy, n: int = 100) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(xs [n], ys [n], E [n, n] with rows over y) of ``energy`` on [0, 1]^2, for contour plots."""
    xs = torch.linspace(0, 1, n)
    gy, gx = torch.meshgrid(xs, xs, indexing="ij")
    with torch.no_grad():
        e = energy(torch.stack([gx.flatten(), gy.flatten()], dim=1)).view(n, n)
    return xs, xs, e


@BUILDERS.register("toy_energy")
class ToyEnergy(nn.Module):
    """An MLP energy on points of [0, 1]^2, rescaled to [-s/2, s/2]^2 first.

    Unscaled, a small MLP is too smooth to carve a ring of width 0.04 in a unit
    box in a few hundred iterations (spectral bias); the rescaling fixes that.
    """

    def __init__(self, hidden: tuple[int, ...] = (128, 128), act: str = "swish", spectral_norm: bool = False,
                 input_scale: float = 8.0):
        super().__init__()
        self.input_scale = input_scale
        self.mlp = MLPEnergy(2, hidden, act=act, spectral_norm=spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:  # x [B, 2] -> [B]
        return self.mlp((x - 0.5) * self.input_scale)


def sample_each_and_sum(models: dict[str, nn.Module], x0: torch.Tensor, cfg: LangevinConfig, scheme: Scheme,
                        n_steps: int, n_traces: int) -> tuple[dict, dict, torch.Tensor]:
    """Fresh chains from ``x0`` [N, 2] on each EBM alone and on the sum of both (``scheme``). Returns
    (samples: "ring" / "band" / "ring_and_band" -> [N, 2], their ``support_shares`` plus "data" (as
    many points drawn from the densities themselves), the sum's first ``n_traces`` paths [T+1, n, 2])."""
    samples, shares = {}, {}
    for names, how in ((["ring"], "sum"), (["band"], "sum"), (["ring", "band"], scheme)):
        energies = [models[n] for n in names]
        key = "_and_".join(names)
        samples[key], trace = compose_langevin(energies, x0, cfg, how, models=tuple(energies), n_steps=n_steps,
                                               trace_every=1)
        shares[key] = support_shares(samples[key])
    traces = torch.stack([x0[:n_traces], *[t[:n_traces] for t in trace]])  # the sum's chains
    shares["data"] = support_shares(torch.cat([sample(n, len(x0)) for n in DENSITIES]))
    return samples, shares, traces
