"""The Figure 8 protocol: accuracy against the PGD budget eps, L-inf and L2, for the energy classifier
with and without Langevin refinement and for a plain classifier.

Three classifiers, each attacked by its own PGD (``robustness.pgd``):
  * ebm_refine: the paper's classifier, lowest energy over classes after Langevin refinement
    inside an L-inf box around the input; what the attack differentiates through is ``attack``:
    plain (the original code: the energy classifier without refinement; the refinement is a
    defence applied afterwards) or bpda (the refinement inside every attack step, taken as the
    identity in the backward pass).
  * ebm_plain: the same energy classifier without refinement (white-box gradients).
  * classifier: a plain classifier given by the caller (optional).
With ``calibrate`` the energies get per-class offsets and a temperature fitted on training images.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from ebm.generalization.robustness import (Logits, RobustnessConfig, accuracy, energy_logits, fit_calibration, pgd,
                                           refined_logits)
from ebm.sampling import LangevinConfig

CHUNK = 100  # images attacked at once (x n_classes energy evaluations for the EBM)


def sweep_point(classifiers: dict[str, Logits], x, y, eps: float, norm: str, cfg: RobustnessConfig, gen) -> dict:
    """Accuracy of each classifier under its PGD at one eps."""
    row = {"eps": eps}
    pgd_ = partial(pgd, eps=eps, norm=norm, steps=cfg.pgd_steps, step_frac=cfg.pgd_step_frac, generator=gen)
    x_plain = pgd_(classifiers["ebm_plain"], x, y)
    row["ebm_plain"] = accuracy(classifiers["ebm_plain"], x_plain, y)
    x_ref = x_plain if cfg.attack == "plain" else pgd_(classifiers["ebm_bpda"], x, y)
    row["ebm_refine"] = accuracy(classifiers["ebm_refine"], x_ref, y)
    if "classifier" in classifiers:
        row["classifier"] = accuracy(classifiers["classifier"], pgd_(classifiers["classifier"], x, y), y)
    return row


def run(model: nn.Module, n_classes: int, test: tuple[torch.Tensor, torch.Tensor],
        train: tuple[torch.Tensor, torch.Tensor], cfg: RobustnessConfig, langevin_cfg: LangevinConfig,
        gen: torch.Generator, classifier: Logits | None = None,
        on_point: Callable[[str, dict], None] | None = None) -> dict[str, list[dict]]:
    """{norm: [{"eps", "ebm_plain", "ebm_refine"[, "classifier"]} per eps]} on the test images (x in
    [0, 1], y); ``train`` fits the calibration; on_point(norm, row) after each eps."""
    x, y = test
    with torch.no_grad():
        raw = energy_logits(model, train[0], n_classes)
    # Fitted once on the plain energies, used with and without refinement (the energies are not retrained).
    cal = fit_calibration(raw, train[1]) if cfg.calibrate else None
    refined = partial(refined_logits, model, n_classes=n_classes, cfg=langevin_cfg, box=cfg.refine_box,
                      calibration=cal, generator=gen)
    classifiers = {"ebm_plain": partial(energy_logits, model, n_classes=n_classes, calibration=cal),
                   "ebm_refine": refined, "ebm_bpda": partial(refined, straight_through=True)}
    if classifier is not None:
        classifiers["classifier"] = classifier
    tables = {}
    for norm, eps_list in (("linf", cfg.linf_eps), ("l2", cfg.l2_eps)):
        if not eps_list:
            continue
        tables[norm] = []
        for eps in eps_list:
            starts = range(0, len(x), CHUNK)
            chunks = [sweep_point(classifiers, x[i : i + CHUNK], y[i : i + CHUNK], eps, norm, cfg, gen) for i in starts]
            sizes = [len(y[i : i + CHUNK]) for i in starts]
            row = {key: sum(c[key] * s for c, s in zip(chunks, sizes)) / len(x) for key in chunks[0]}
            tables[norm].append(row)
            if on_point is not None:
                on_point(norm, row)
    return tables


def summary(tables: dict[str, list[dict]], model: nn.Module, n_classes: int, test: tuple[torch.Tensor, torch.Tensor],
            classifier: nn.Module | None = None) -> dict:
    """The metrics of a sweep: {norm: {classifier: {"eps_<eps>": accuracy}}}, the test size, the EBM's
    clean accuracy without calibration, and the weights of the EBM (and of the plain classifier)."""
    x, y = test
    out: dict = {norm: {key: {f"eps_{r['eps']:g}": r[key] for r in rows} for key in rows[0] if key != "eps"}
                 for norm, rows in tables.items()}
    out["n_images"] = len(x)
    out["clean_accuracy_uncalibrated"] = accuracy(partial(energy_logits, model, n_classes=n_classes), x, y)
    out["n_weights"] = {"ebm": sum(p.numel() for p in model.parameters())}
    if classifier is not None:
        out["n_weights"]["classifier"] = sum(p.numel() for p in classifier.parameters())
    return out
