"""Class-incremental task splits: 5 tasks of 2 classes (0/1, 2/3, ...), each seen once, in order."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Task:
    classes: tuple[int, ...]  # the labels this task introduces
    index: torch.Tensor  # int64 [n], positions of its samples in the dataset


def task_classes(n_classes: int, classes_per_task: int) -> list[tuple[int, ...]]:
    """[(0, 1), (2, 3), ...]: consecutive labels, every label in exactly one task."""
    if n_classes % classes_per_task:
        raise ValueError(f"{n_classes} classes do not split into tasks of {classes_per_task}")
    return [tuple(range(c, c + classes_per_task)) for c in range(0, n_classes, classes_per_task)]


def split_tasks(y: torch.Tensor, n_classes: int, classes_per_task: int) -> list[Task]:
    """One Task per class group, holding the indices of exactly its labels."""
    tasks = []
    for classes in task_classes(n_classes, classes_per_task):
        keep = torch.isin(y, torch.tensor(classes, dtype=y.dtype))
        tasks.append(Task(classes, torch.nonzero(keep).squeeze(1)))
    return tasks


def seen_classes(tasks: list[Task], upto: int) -> tuple[int, ...]:
    """The labels of tasks 0..upto (inclusive)."""
    return tuple(c for t in tasks[: upto + 1] for c in t.classes)
