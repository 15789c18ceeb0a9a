"""Algorithm 1 as every training stage runs it: ``ebm.training.fit`` with a progress bar, the curves in
MLflow, the guard's rollbacks reported, a resume state every ``resume_every`` steps, and a divergence
that the guard could not recover as one line naming the knob to lower.

Used by train@ (images, under DDP), train_traj@ (the trajectory EBMs), train_factor@, toy2d and
crossproduct (the composition EBMs, which train in seconds and keep no resume state).
``fit_regression_logged`` does the same for an MSE loop (the trajectory baselines).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tqdm import tqdm

from ebm.training import DivergenceError, DivergenceGuard, FitLog, Trainer, fit, postfix
from stages.common.io import UserError
from stages.common.resume import ResumeDir


def fit_logged(label: str, trainer: Trainer, batch: Callable[[int], tuple], n_iters: int, run, *, log_every: int,
               hint: str = "", guard: DivergenceGuard | None = None, work: ResumeDir | None = None,
               state: dict | None = None, resume_every: int = 0, keys: Sequence[str] | None = None,
               reduce: Callable[[dict], dict] | None = None, hooks: Sequence[tuple[int, Callable[[int], None]]] = (),
               prefix: str = "", show: bool = True) -> FitLog:
    """Steps 1..n_iters of ``trainer`` (from ``state``, a resume state ``work`` saved, when given).

    run: the stage's tracking run (curves as ``prefix`` + stat, and the lr); keys: the stats a curve row
    keeps (all when None); hooks: (every, fn(step)) before the resume save; show: this process draws the
    bar and prints (DDP: rank 0); hint: what to lower when the guard's rollbacks run out."""
    start, log = 0, FitLog()
    if state is not None:
        trainer.load_state_dict(state["trainer"])
        start, log = state["step"], FitLog(state["rows"], state["events"])
        print(f"{label}: resuming from step {start} ({work.dir})")
    bar = tqdm(range(start + 1, n_iters + 1), initial=start, total=n_iters, desc=label, unit="it", disable=not show)

    def on_log(step, stats):
        curve = stats if keys is None else {k: stats[k] for k in keys}
        run.log_metrics({**{prefix + k: v for k, v in curve.items()},
                         prefix + "lr": trainer.lr * trainer.cfg.lr_scale(step)}, step=step)
        bar.set_postfix(postfix(stats))

    def on_rollback(step, event):
        run.log_metrics({prefix + "rollbacks": event["rollbacks"], prefix + "lr": event["lr"]}, step=step)
        if show:
            tqdm.write(f"{label}: diverged at step {step} ({event['why']}); rolled back to step "
                       f"{event['rolled_back_to']}, lr -> {event['lr']:.3g}")

    def save_resume(step):
        if step < n_iters:  # the finished run's outputs are written next, and its resume state cleared
            work.save({"trainer": trainer.state_dict(), "step": step, "rows": log.rows, "events": log.events})

    resume = [(resume_every, save_resume)] if work is not None else []
    try:
        fit(trainer, batch, n_iters, log_every=log_every, start=start, log=log, guard=guard, reduce=reduce, keys=keys,
            on_log=on_log, on_rollback=on_rollback, hooks=[*hooks, *resume], steps=bar)
    except DivergenceError as e:
        raise UserError(f"{label}: {e}; {hint}") from None
    bar.close()
    return log


def fit_regression_logged(label: str, fit: Callable[[Callable[[int, float], None]], None], n_iters: int,
                          log_every: int, run, hint: str) -> list[dict]:
    """``fit(log)`` runs an MSE loop that calls ``log(step, loss)`` every step; the curve keeps the mean loss
    of each ``log_every`` block (bar, MLflow). A non-finite loss is one line ending in ``hint``."""
    rows, acc = [], []
    bar = tqdm(total=n_iters, desc=label, unit="it")

    def log(step: int, loss: float) -> None:
        acc.append(loss)
        bar.update(1)
        if step % log_every == 0 or step == n_iters:
            rows.append({"step": step, "loss": sum(acc) / len(acc)})
            acc.clear()
            run.log_metrics({"loss": rows[-1]["loss"]}, step=step)
            bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}")

    try:
        fit(log)
    except FloatingPointError as e:
        raise UserError(f"{label}: training diverged ({e}); {hint}") from None
    bar.close()
    return rows
