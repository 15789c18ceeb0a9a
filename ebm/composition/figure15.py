"""Figure 15's protocol: joint samples from the sum of the factor EBMs, read by the factor judge.

For each asked combination of factors (e.g. size + position), chains from one shared start sample
Σ_f E_f(x | c_f) with the factors c_f of held-out images, by each scheme of ``compose_langevin``
(Langevin on the sum, or the original's one sub-step per model). The judge reads every sample;
the metric is the share of samples showing every asked factor, and each one. Beside them: the same
score for the true images (the ceiling under the tolerances) and for shuffled ones (chance), and
``own_factor``: each factor model alone asked its own factor, because a sum can only show what its
parts carry (a factor the judge reads right on less than ~95 % of the true images cannot be judged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from ebm.composition.compose import ComposeConfig, compose_langevin
from ebm.composition.dsprites import factor_labels
from ebm.composition.judge import JudgeTolerance, factor_hits, read_factors, shows_all
from ebm.sampling import LangevinConfig


@dataclass
class ComposeResult:
    metrics: dict  # scheme -> combo key -> {"all", <factor>...}; "ground_truth", "chance", "own_factor", "headline"
    samples: dict  # (scheme, combo) -> images [N, C, H, W]


def score(judge: nn.Module, x: torch.Tensor, classes: torch.Tensor, values: torch.Tensor, combo: tuple[str, ...],
          tol: JudgeTolerance) -> dict[str, float]:
    """Share of images the judge reads as showing every factor of ``combo`` ("all"), and each one."""
    hits = factor_hits(read_factors(judge, x), classes, values, tol)
    return {"all": shows_all(hits, combo).float().mean().item(), **{f: hits[f].float().mean().item() for f in combo}}


def run(models: dict[str, nn.Module], judge: nn.Module, x_true: torch.Tensor, classes: torch.Tensor,
        values: torch.Tensor, perm: torch.Tensor, x0: torch.Tensor, cfg: ComposeConfig, tol: JudgeTolerance,
        langevin_cfg: LangevinConfig, generator: torch.Generator,
        progress: Callable[[list], Iterable] = lambda jobs: jobs) -> ComposeResult:
    """models: factor -> its EBM E(x, label); x_true / classes / values: the held-out images asked and their
    factors; perm: the shuffle that gives chance; x0: every chain's start."""
    samples = {}
    for scheme, combo in progress([(s, c) for c in cfg.combos for s in cfg.schemes]):
        energies = [lambda z, m=models[f], c=factor_labels(values, f): m(z, c) for f in combo]
        samples[scheme, combo] = compose_langevin(energies, x0, langevin_cfg, scheme, generator=generator)
    metrics = {"ground_truth": {}, "chance": {}, "own_factor": {}}
    for f, model in models.items():
        alone = compose_langevin([lambda z, c=factor_labels(values, f): model(z, c)], x0, langevin_cfg, "sum",
                                 generator=generator)
        metrics["own_factor"][f] = {"samples": score(judge, alone, classes, values, (f,), tol)[f],
                                    "true_images": score(judge, x_true, classes, values, (f,), tol)[f],
                                    "chance": score(judge, x_true[perm], classes, values, (f,), tol)[f]}
    for combo in cfg.combos:
        key = "_".join(combo)
        metrics["ground_truth"][key] = score(judge, x_true, classes, values, combo, tol)
        metrics["chance"][key] = score(judge, x_true[perm], classes, values, combo, tol)
        for scheme in cfg.schemes:
            metrics.setdefault(scheme, {})[key] = score(judge, samples[scheme, combo], classes, values, combo, tol)
    full = "_".join(cfg.combos[-1])
    metrics["headline"] = {f"{s}_{full}_all": metrics[s][full]["all"] for s in cfg.schemes}
    return ComposeResult(metrics, samples)
