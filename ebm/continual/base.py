"""What every continual learner implements, and the plain MLP they share.

The task loop (``loop.py``) calls, for each task in order: ``begin_task``, then
``observe`` on minibatches for ``epochs`` passes, then ``end_task`` with the
whole task's data (importance estimates, model snapshots). ``scores`` ranks all
classes at once: no task identity at test time (class-incremental).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ebm.registry import Registry

METHODS = Registry("continual method")  # name -> fn(d_in, n_classes, settings: ContinualSettings): a fresh learner


def mlp(d_in: int, hidden: tuple[int, ...], d_out: int) -> nn.Sequential:
    """d_in -> hidden... -> d_out with ReLUs (the 400-400 MLP of Hsu et al. 2018)."""
    dims, layers = (d_in, *hidden), []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(dims[-1], d_out))


class Method:
    """A continual learner over ``n_classes`` labels; x: [B, D] floats in [0, 1], y: [B] int64."""

    epochs: int  # passes over each task's data
    batch_size: int

    def begin_task(self, task: int, classes: tuple[int, ...], seen: tuple[int, ...]) -> None:
        """``classes``: this task's labels; ``seen``: all labels so far, this task's included."""

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError

    def end_task(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called once with all of the finished task's training data."""

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """[B, n_classes], higher = more likely; the prediction is the argmax."""
        raise NotImplementedError

    def scorers(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        """Named classification rules evaluated after each task; "" is ``scores``."""
        return {"": self.scores}
