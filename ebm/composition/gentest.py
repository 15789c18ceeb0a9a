"""The Figure 16 protocol, the original's ``gentest``: generalisation to unseen factor combinations.

Per experiment (size x position, shape x position; the splits are ``crossproduct``):
the sum of the two factor EBMs is fine-tuned on one-factor-at-a-time data, then
sampled from noise under held-out (factor, position) pairs, scored by the MSE to
the true image of each pair. The zero-shot sum (before fine-tuning) is scored too.
The baseline generator is trained on the same data plus a share ``seen`` of the
held-out pairs and scored on the same pairs: the paper's curve.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ebm.composition.compose import compose_langevin
from ebm.composition.crossproduct import (EXPERIMENTS, CrossProductConfig, SumEnergy, balanced, image_mse,
                                         split_combos)
from ebm.composition.dsprites import LABEL_DIMS, DSprites, factor_labels, find_rows
from ebm.composition.generator_baseline import CondGenerator, generate, train_generator
from ebm.data import uniform_like
from ebm.sampling import LangevinConfig
from ebm.training import TrainConfig, Trainer, random_batches


@dataclass
class GentestResult:
    metrics: dict  # mse_ebm, mse_ebm_zero_shot, mse_baseline_unseen / _all_seen, n_train, n_test_pairs, n_scored
    curve: list[dict]  # per share seen: {"seen", "mse_baseline", "mse_ebm"}
    grid: list[tuple[str, torch.Tensor]]  # (row label, images [10, C, H, W]): true, EBM, generator at min/max seen


def labels(values: torch.Tensor, factors) -> torch.Tensor:
    return torch.cat([factor_labels(values, f) for f in factors], dim=1)


class MissingCombinations(ValueError):
    """The dSprites arrays lack a factor combination an experiment needs (another slice was kept)."""


def images_of(data: DSprites, classes) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] and factor values of the given class rows."""
    try:
        rows = torch.from_numpy(find_rows(data.classes, classes))
    except ValueError as e:
        raise MissingCombinations(str(e)) from None
    return data.images[rows].float() / 255, data.values[rows]


def ebm_mse(model, y, x_true, x0, langevin_cfg, steps) -> tuple[float, torch.Tensor]:
    x = compose_langevin([lambda z: model(z, y)], x0, langevin_cfg, models=(model,), n_steps=steps)
    return image_mse(x, x_true).mean().item(), x


def run(name: str, data: DSprites, factor_model: Callable[[str], nn.Module], cfg: CrossProductConfig,
        train_cfg: TrainConfig, langevin_cfg: LangevinConfig, orientation: int, gen: torch.Generator,
        fit_sum: Callable[[Trainer, Iterator, int], None],
        progress: Callable[[Iterable], Iterable] = lambda it: it) -> GentestResult:
    """One experiment. ``factor_model(name)`` gives a trained factor EBM (copied here, not changed);
    ``fit_sum(trainer, batches, n_iters)`` runs the summed EBM's fine-tuning (the caller's loop, with
    its logging); ``progress`` wraps the loop over the baseline's shares."""
    factors = EXPERIMENTS[name]
    train_cls, test_cls = split_combos(name, orientation, cfg.shape_scale)
    x_tr, v_tr = images_of(data, train_cls)
    x_te, v_te = images_of(data, test_cls)
    y_tr, y_te = labels(v_tr, factors), labels(v_te, factors)
    idx = balanced(len(train_cls) - 1023, 1023)  # [factor set | position set], the first tiled
    x_bal, y_bal = x_tr[idx], y_tr[idx]
    ev = torch.randperm(len(x_te), generator=gen)[: cfg.n_test]  # the pairs both models are scored on
    x0 = torch.rand(x_te[ev].shape, generator=gen)

    model = SumEnergy([copy.deepcopy(factor_model(f)).requires_grad_(True) for f in factors],
                      [LABEL_DIMS[f] for f in factors])
    zero_shot, _ = ebm_mse(model.eval(), y_te[ev], x_te[ev], x0, langevin_cfg, cfg.sample_steps)
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(tuple(x_tr.shape[1:])))
    fit_sum(trainer, random_batches(x_bal, y_bal, train_cfg.batch_size), train_cfg.n_iters)
    model.eval().requires_grad_(False)
    mse_ebm, x_ebm = ebm_mse(model, y_te[ev], x_te[ev], x0, langevin_cfg, cfg.sample_steps)

    curve, shown = [], {}
    for share in progress(cfg.seen):
        extra = torch.randperm(len(x_te), generator=gen)[: round(share * len(x_te))]
        g = CondGenerator(y_tr.shape[1], cfg.z_dim, x_tr.shape[-1], cfg.gen_hidden)
        for _ in train_generator(g, torch.cat([y_bal, y_te[extra]]), torch.cat([x_bal, x_te[extra]]),
                                 cfg.gen_steps, cfg.gen_batch, cfg.gen_lr, gen):
            pass
        x_gen = generate(g, y_te[ev], gen)
        curve.append({"seen": share, "mse_baseline": image_mse(x_gen, x_te[ev]).mean().item(), "mse_ebm": mse_ebm})
        shown[share] = x_gen
    n = 10
    grid = [("true", x_te[ev][:n]), ("EBM (0% seen)", x_ebm[:n])] + [
        (f"generator ({100 * s:.0f}% seen)", shown[s][:n]) for s in (min(cfg.seen), max(cfg.seen))]
    metrics = {"mse_ebm": mse_ebm, "mse_ebm_zero_shot": zero_shot,
               "mse_baseline_unseen": curve[cfg.seen.index(min(cfg.seen))]["mse_baseline"],
               "mse_baseline_all_seen": curve[cfg.seen.index(max(cfg.seen))]["mse_baseline"],
               "n_train": len(train_cls), "n_test_pairs": len(test_cls), "n_scored": len(ev)}
    return GentestResult(metrics, curve, grid)
