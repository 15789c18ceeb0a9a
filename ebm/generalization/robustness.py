"""Adversarial robustness (openai/ebm_code_release): the conditional EBM as a classifier, and PGD.

EBM classifier: logit_k(x) = a * -E(x_k, k) + b_k, where x_k is x refined by a few
Langevin steps under class k, kept inside an L-inf box around x (the original's
defence; ``n_steps = 0`` gives the plain energy classifier). The per-class offset b_k
stands for -log Z_k: each class's energy is trained on its own, so the classes'
energy levels are not comparable. The original adds an ``e_bias`` that is zeros and
never trained; ours are fitted (``fit_calibration``) with a temperature a on the
training images, and a = 1, b = 0 gives the original.

PGD: random start in the eps-ball, then steps of the loss gradient (sign for
L-inf, normalised for L2), each followed by projection onto the eps-ball around
the *original* input and a clamp to [0, 1]. (The original's L2 attack only
bounds each step, relative to the previous iterate: a bug we do not copy.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ebm.config import ge, gt
from ebm.sampling import LangevinConfig, frozen, langevin_step

Logits = Callable[[torch.Tensor], torch.Tensor]  # x [B, C, H, W] -> logits [B, K]


@dataclass(frozen=True)
class RobustnessConfig:
    linf_eps: tuple[float, ...] = field(default=(0.0, 0.05, 0.1, 0.2, 0.3), metadata=ge(0))  # [] skips L-inf
    l2_eps: tuple[float, ...] = field(default=(0.0, 0.5, 1.0, 2.0, 3.0), metadata=ge(0))  # [] skips L2
    pgd_steps: int = field(default=10, metadata=ge(0))
    pgd_step_frac: float = field(default=0.25, metadata=gt(0))  # step length = frac * eps (2.5 eps / steps)
    refine_box: float = field(default=8 / 255, metadata=ge(0))  # L-inf half-width of the refinement box
    attack: Literal["plain", "bpda"] = "plain"  # what the refined classifier's attack differentiates
    calibrate: bool = True  # fit the class offsets and temperature on train images (False: the original's zeros)


Calibration = tuple[torch.Tensor, torch.Tensor]  # (scale [], bias [K])


def energy_logits(model, x: torch.Tensor, n_classes: int, calibration: Calibration | None = None) -> torch.Tensor:
    """[B, K] = a * -E(x, k) + b_k for every class k (one batched forward of K*B images)."""
    b = x.shape[0]
    y = torch.arange(n_classes, device=x.device).repeat_interleave(b)
    logits = -model(x.repeat(n_classes, 1, 1, 1), y).view(n_classes, b).T
    return calibrate(logits, calibration)


def calibrate(logits: torch.Tensor, calibration: Calibration | None) -> torch.Tensor:
    if calibration is None:
        return logits
    scale, bias = calibration
    return scale.to(logits.device) * logits + bias.to(logits.device)


def fit_calibration(neg_energies: torch.Tensor, y: torch.Tensor) -> Calibration:
    """The temperature a and class offsets b maximising the likelihood of softmax(a * -E + b)
    on labelled images: a convex fit of K + 1 numbers (scipy's L-BFGS-B). ``neg_energies`` [N, K] = -E(x, k).

    The logits are standardised first: raw energy gaps are ~0.01 and L-BFGS stalls on them.
    """
    from scipy.optimize import minimize

    l, y = neg_energies.detach().double().cpu(), y.cpu()
    mu, sd = l.mean(0), (l - l.mean(0)).std().clamp_min(1e-12)
    z = (l - mu) / sd

    def nll(theta):  # mean cross-entropy and its gradient in (a, b)
        t = torch.from_numpy(theta).requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(t[0] * z + t[1:], y)
            (g,) = torch.autograd.grad(loss, t)
        return loss.item(), g.numpy()

    theta0 = np.concatenate([[1.0], np.zeros(l.shape[1])])
    theta = torch.from_numpy(minimize(nll, theta0, jac=True, method="L-BFGS-B").x)
    a, b = theta[0], theta[1:]
    # a * (l - mu) / sd + b = (a / sd) * l + (b - a * mu / sd)
    return (a / sd).float(), (b - a * mu / sd).float()


def refine(model, x: torch.Tensor, n_classes: int, cfg: LangevinConfig, box: float, generator=None) -> torch.Tensor:
    """Each image refined under each class: [K*B, C, H, W] (class-major), inside x +- box, in [0, 1]."""
    x0 = x.detach().repeat(n_classes, 1, 1, 1)
    y = torch.arange(n_classes, device=x.device).repeat_interleave(x.shape[0])
    z = x0
    with frozen(model):
        for _ in range(cfg.n_steps):
            z = langevin_step(lambda v: model(v, y), z, cfg, generator).detach()
            z = (x0 + (z - x0).clamp(-box, box)).clamp(0, 1)
    return z


def refined_logits(model, x: torch.Tensor, n_classes: int, cfg: LangevinConfig, box: float,
                   calibration: Calibration | None = None, generator=None,
                   straight_through: bool = False) -> torch.Tensor:
    """[B, K] = a * -E(refined x_k, k) + b_k. With ``straight_through`` the refinement counts as the
    identity for gradients (BPDA): d logits/dx is taken at the refined points."""
    b = x.shape[0]
    z = refine(model, x, n_classes, cfg, box, generator)
    if straight_through:
        x_rep = x.repeat(n_classes, 1, 1, 1)
        z = x_rep + (z - x_rep).detach()
    y = torch.arange(n_classes, device=x.device).repeat_interleave(b)
    return calibrate(-model(z, y).view(n_classes, b).T, calibration)


def project(x: torch.Tensor, x0: torch.Tensor, eps: float, norm: Literal["linf", "l2"]) -> torch.Tensor:
    """Onto the eps-ball around x0, then into [0, 1] (which keeps it inside the ball)."""
    d = x - x0
    if norm == "linf":
        d = d.clamp(-eps, eps)
    else:
        n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        d = d * (eps / n).clamp(max=1.0).view(-1, *[1] * (d.dim() - 1))
    return (x0 + d).clamp(0, 1)


def random_start(x0: torch.Tensor, eps: float, norm: str, generator=None) -> torch.Tensor:
    """Uniform in the L-inf box, or uniform in the L2 ball (direction x radius * U^(1/d))."""
    if norm == "linf":
        d = (2 * torch.rand(x0.shape, generator=generator, device=x0.device) - 1) * eps
    else:
        g = torch.randn(x0.shape, generator=generator, device=x0.device)
        g = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (g.dim() - 1))
        dim = x0[0].numel()
        r = eps * torch.rand((x0.shape[0],), generator=generator, device=x0.device) ** (1.0 / dim)
        d = g * r.view(-1, *[1] * (g.dim() - 1))
    return project(x0 + d, x0, eps, norm)


def pgd(logits_fn: Logits, x0: torch.Tensor, y: torch.Tensor, eps: float, norm: Literal["linf", "l2"],
        steps: int, step_frac: float, generator=None) -> torch.Tensor:
    """Untargeted PGD maximising cross-entropy of ``logits_fn`` at the true labels ``y``."""
    x0 = x0.detach()
    if eps == 0 or steps == 0:
        return x0.clone()
    alpha = step_frac * eps
    x = random_start(x0, eps, norm, generator)
    for _ in range(steps):
        x.requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(logits_fn(x), y, reduction="sum")
            (g,) = torch.autograd.grad(loss, x)
        if norm == "linf":
            step = g.sign()
        else:
            step = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (g.dim() - 1))
        x = project(x.detach() + alpha * step, x0, eps, norm)
    return x.detach()


@torch.no_grad()
def accuracy(logits_fn: Logits, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    pred = torch.cat([logits_fn(xb).argmax(1) for xb in x.split(batch_size)])
    return float((pred == y).float().mean())
