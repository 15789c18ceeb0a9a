"""The one task loop every method shares, and its accuracy bookkeeping. Each task trains through
``ebm.training.fit``, the pipeline's one fit loop, with the learner's ``observe`` as the step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import torch

from ebm.continual.base import Method
from ebm.continual.tasks import Task, seen_classes
from ebm.training.fit import fit


@dataclass(frozen=True)
class Result:
    """Per classification rule ("" = the method's own; see ``Method.scorers``):"""
    acc_all: dict[str, list[float]]  # [T] accuracy on the test images of all classes after each task
    acc_task: dict[str, list[list[float]]]  # [T][T] accuracy on task j's test images after task t
    task_confusion: dict[str, list[list[float]]]  # [T][T] after the last task: share of task j's test images
    #                                               given a label of task i (row j, column i)


@torch.no_grad()
def predict(scores: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Argmax over all classes (no task identity at test time)."""
    return torch.cat([scores(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float((pred == y).float().mean()) if len(y) else 0.0


def run_tasks(method: Method, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
              train_tasks: list[Task], test_tasks: list[Task], generator: torch.Generator | None = None,
              on_batch: Callable[[dict], None] | None = None) -> Result:
    """Trains ``method`` on the tasks in order (each seen once, ``method.epochs`` passes) and tests
    on the held-out images of every task after each one. x: [N, D] floats, y: [N] int64."""
    (x, y), (xt, yt) = train, test
    acc_all, acc_task, confusion = {}, {}, {}
    for t, task in enumerate(train_tasks):
        method.begin_task(t, task.classes, seen_classes(train_tasks, t))
        xs, ys = x[task.index], y[task.index]
        batch, n_steps = epoch_batches(xs, ys, method.epochs, method.batch_size, generator)
        fit(Learner(method), batch, n_steps, log_every=1,
            on_log=None if on_batch is None else lambda step, stats: on_batch(stats))
        method.end_task(xs, ys)
        for name, scores in method.scorers().items():
            pred = predict(scores, xt)
            acc_all.setdefault(name, []).append(accuracy(pred, yt))
            acc_task.setdefault(name, []).append([accuracy(pred[s.index], yt[s.index]) for s in test_tasks])
            confusion[name] = task_confusion(pred, test_tasks)  # the last task's overwrites the earlier ones
    return Result(acc_all, acc_task, confusion)


class Learner:
    """A continual method as ``fit``'s trainer: one step is one ``observe`` (no learning-rate schedule)."""

    cfg = SimpleNamespace(lr_scale=lambda step: 1.0)

    def __init__(self, method: Method):
        self.method = method

    def step(self, x: torch.Tensor, y: torch.Tensor, lr_scale: float = 1.0) -> dict[str, float]:
        return self.method.observe(x, y)


def epoch_batches(x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int,
                  generator: torch.Generator | None = None) -> tuple[Callable[[int], tuple], int]:
    """(batch(step) for steps 1..n, n): ``epochs`` passes over x, y in minibatches, each pass in a fresh random
    order drawn at its first batch (so the draws interleave with the learner's own as one pass loop's would)."""
    per_epoch = -(-len(x) // batch_size)
    order = {}

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = (step - 1) % per_epoch
        if i == 0:
            order["perm"] = torch.randperm(len(x), generator=generator)
        idx = order["perm"][i * batch_size : (i + 1) * batch_size]
        return x[idx], y[idx]

    return batch, epochs * per_epoch


def task_confusion(pred: torch.Tensor, tasks: list[Task]) -> list[list[float]]:
    """[T][T]: share of task j's images (rows) predicted as a label of task i (columns); rows sum to 1."""
    owner = {c: i for i, t in enumerate(tasks) for c in t.classes}
    task_of = torch.tensor([owner.get(int(p), -1) for p in pred.tolist()], dtype=torch.long)
    return [[float((task_of[t.index] == i).float().mean()) if len(t.index) else 0.0 for i in range(len(tasks))]
            for t in tasks]
