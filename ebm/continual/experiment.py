"""The continual-learning experiment (the paper's Table 1): every method on the same split tasks, for
several seeds, summarised as accuracies (percent) and the errors across tasks.

``run_method`` trains one method on a task sequence ``n_seeds`` times (seed, seed + 1, ...) and
returns its table rows (one per classification rule); ``summarize`` turns the per-seed ``Result``s
into those rows. Tensors in, numbers out: the stage (stages/continual.py) logs and writes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ebm.continual import Method, Result, Task, build_method, run_tasks
from ebm.continual.config import ContinualSettings

# Table 1 of the paper (split MNIST, class-incremental, mean +- std of 10 seeds, percent).
# The baselines are Hsu et al. (2018)'s numbers; the paper's "NAS" is MAS (same 19.52 +- 0.29).
PAPER = {"ewc": (19.80, 0.05), "si": (19.67, 0.09), "mas": (19.52, 0.29), "lwf": (24.17, 0.33),
         "vae": (40.04, 1.31), "ebm": (64.99, 4.27)}


def row_name(method: str, rule: str) -> str:
    return f"{method}_{rule}" if rule else method


def error_split(confusion: np.ndarray, sizes: np.ndarray) -> dict[str, float]:
    """Percent of all test images given a label of a later task than their own (an old image called new),
    of an earlier task (a new image called old), or the wrong label of their own task."""
    w = sizes[:, None] / sizes.sum()  # [T, 1] share of the test set of each row's task
    later, earlier = np.triu(confusion, 1), np.tril(confusion, -1)
    return {"err_old_as_new": float(100 * (w * later).sum()), "err_new_as_old": float(100 * (w * earlier).sum())}


def summarize(results: list[Result], sizes: np.ndarray) -> dict[str, dict]:
    """Per classification rule: the final accuracy on all classes (percent, mean/std over seeds), what is
    left of each task after the last one, the errors across tasks, the accuracy matrix (after task t, on
    task j; mean over seeds) and (under "curve") the accuracy after each task."""
    out = {}
    for rule in results[0].acc_all:
        curves = 100 * np.array([r.acc_all[rule] for r in results])  # [seeds, T]
        matrix = 100 * np.array([r.acc_task[rule] for r in results]).mean(0)  # [T, T] after task t, on task j
        conf = np.array([r.task_confusion[rule] for r in results]).mean(0)  # [T, T] task of image -> of label
        errors = error_split(conf, sizes)
        within = 100 - curves[:, -1].mean() - sum(errors.values())  # the rest of the errors
        errors["err_within_task"] = max(0.0, round(float(within), 6))  # not -0.0 from float rounding
        errors["dominant_error"] = max(("old_as_new", "new_as_old", "within_task"), key=lambda k: errors[f"err_{k}"])
        out[rule] = {
            "acc_mean": float(curves[:, -1].mean()),
            "acc_std": float(curves[:, -1].std(ddof=1)) if len(curves) > 1 else 0.0,
            "acc_seeds": [float(a) for a in curves[:, -1]],
            **{f"final_task{t + 1}": float(a) for t, a in enumerate(matrix[-1])},
            **errors,
            "acc_matrix": [[float(round(a, 2)) for a in row] for row in matrix],
            "curve": [{"task": t + 1, "acc_mean": float(m), "acc_std": float(sd)}
                      for t, (m, sd) in enumerate(zip(curves.mean(0), curves.std(0)))],
        }
    return out


def joint_tasks(y: torch.Tensor, n_classes: int) -> list[Task]:
    """All classes as one task: the non-continual ceiling."""
    return [Task(tuple(range(n_classes)), torch.arange(len(y)))]


def n_batches(tasks, epochs: int, batch_size: int) -> int:
    return epochs * sum(math.ceil(len(t.index) / batch_size) for t in tasks)


def run_method(name: str, settings: ContinualSettings, train: tuple[torch.Tensor, torch.Tensor],
               test: tuple[torch.Tensor, torch.Tensor], tasks: tuple[list[Task], list[Task]], n_classes: int,
               seed: int, row: str | None = None, on_build: Callable[[int, Method], None] | None = None,
               on_batch: Callable[[dict], None] | None = None,
               on_seed: Callable[[int, Result], None] | None = None) -> tuple[dict[str, dict], Method]:
    """Rows ``<row or name>[_<rule>]`` of the table for method ``name``, and its learner of the last seed.
    train, test: (x [N, D] in [0, 1], y [N]); tasks: (train tasks, test tasks). Callbacks: on_build(i,
    learner) before seed i trains, on_batch(stats) after each minibatch, on_seed(i, result) after seed i."""
    results = []
    for i in range(settings.common.n_seeds):
        torch.manual_seed(seed + i)  # the i-th seed of every method is seed + i
        method = build_method(name, train[0].shape[1], n_classes, settings)
        if on_build is not None:
            on_build(i, method)
        results.append(run_tasks(method, train, test, *tasks, on_batch=on_batch))
        if on_seed is not None:
            on_seed(i, results[-1])
    sizes = np.array([len(t.index) for t in tasks[1]], dtype=float)
    return {row_name(row or name, rule): s for rule, s in summarize(results, sizes).items()}, method


def add_paper(table: dict[str, dict]) -> None:
    """The paper's Table 1 mean and std beside the rows it has (``paper_mean``, ``paper_std``)."""
    for row, s in table.items():
        if row in PAPER:
            s["paper_mean"], s["paper_std"] = PAPER[row]
