"""One fit loop for every model the pipeline trains step by step: the EBMs it trains with Algorithm 1
(images, dSprites factors, 2-D toys, cross-product models, trajectories), steps under the
learning-rate schedule with the divergence guard, periodic hooks (history checkpoints, resume states)
and logging callbacks; and each task of the continual learners, the EBM among them
(``ebm.continual.loop``: a step is the learner's ``observe``, without schedule, guard or hooks).

The loop is pure: batches come from a function of the step, and whatever touches files or a
tracking server is a callback of the caller. Order within a step, which results depend on: the
batch, the Trainer step, the guard (a rollback skips the rest of the step), the log row, the hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ebm.training.algorithm1 import Trainer
from ebm.training.guard import DivergenceGuard
from ebm.training.loss import CURVE_KEYS


def postfix(stats: dict) -> dict[str, str]:
    """The curve stats formatted for a progress bar's postfix."""
    return {k: f"{stats[k]:.4f}" if k == "loss" else f"{stats[k]:.3f}" for k in CURVE_KEYS}


@dataclass
class FitLog:
    rows: list[dict] = field(default_factory=list)  # every ``log_every`` steps and the last: step + stats
    events: list[dict] = field(default_factory=list)  # the guard's rollbacks


def fit(trainer: Trainer, batch: Callable[[int], tuple], n_iters: int, *, log_every: int,
        start: int = 0, log: FitLog | None = None, guard: DivergenceGuard | None = None,
        reduce: Callable[[dict], dict] | None = None, keys: Sequence[str] | None = None,
        on_log: Callable[[int, dict], None] | None = None,
        on_rollback: Callable[[int, dict], None] | None = None,
        hooks: Sequence[tuple[int, Callable[[int], None]]] = (),
        steps: Iterable[int] | None = None) -> FitLog:
    """Steps ``start + 1 .. n_iters`` of ``trainer`` (a resumed run passes its ``start`` and ``log``): a
    ``Trainer``, or anything with ``step(x, y, lr_scale) -> stats`` and ``cfg.lr_scale(step)``.

    batch(step) -> (x, y or None); reduce: the stats of one step as every process sees them (DDP);
    keys: the stats a log row keeps (all when None); on_log(step, stats) after a row is added;
    on_rollback(step, event) after the guard rolled back (the guard raises DivergenceError when its
    rollbacks run out); hooks: (every, fn) pairs, fn(step) when step % every == 0; steps: the step
    iterable (a progress bar over the same range)."""
    log = log if log is not None else FitLog()
    if guard is not None:
        guard.rollbacks = len(log.events)
    for step in steps if steps is not None else range(start + 1, n_iters + 1):
        x, y = batch(step)
        stats = trainer.step(x, y, trainer.cfg.lr_scale(step))
        if reduce is not None:
            stats = reduce(stats)
        if guard is not None and (event := guard.check(step, stats)) is not None:
            log.events.append(event)
            if on_rollback is not None:
                on_rollback(step, event)
            continue
        if step % log_every == 0 or step == n_iters:
            log.rows.append({"step": step, **(stats if keys is None else {k: stats[k] for k in keys})})
            if on_log is not None:
                on_log(step, stats)
        for every, hook in hooks:
            if step % every == 0:
                hook(step)
    return log
