"""Divergence guard: EBM training blows up (NaN, exploding energies); recover, don't restart by hand.

After each step the guard checks the loss and energies. Every ``snapshot_every``
steps the state after a healthy step becomes a candidate snapshot; the stats of a
step are those of the weights it started from, so the candidate becomes the
snapshot only once the next step is healthy too (an update that diverged is never
kept). A diverged step rolls the trainer back to the last snapshot (weights,
optimiser, buffer, RNG), multiplies the learning rate by ``lr_decay`` and goes
on; after ``max_rollbacks`` rollbacks it raises ``DivergenceError``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from ebm.config import between, ge, gt
from ebm.training.loss import CURVE_KEYS


class DivergenceError(RuntimeError):
    pass


@dataclass(frozen=True)
class GuardConfig:
    energy_bound: float = field(default=1e3, metadata=gt(0))  # |mean E| past this counts as divergence
    max_rollbacks: int = field(default=3, metadata=ge(0))
    lr_decay: float = field(default=0.5, metadata=between(0, 1))
    snapshot_every: int = field(default=50, metadata=gt(0))


class DivergenceGuard:
    def __init__(self, trainer, cfg: GuardConfig):
        self.trainer, self.cfg = trainer, cfg
        self.snapshot = copy.deepcopy(trainer.state_dict())
        self.snapshot_step = 0
        self.candidate, self.candidate_step = None, 0  # not checked yet: the next step's stats check it
        self.rollbacks = 0

    def healthy(self, stats: dict) -> bool:
        return all(math.isfinite(stats[k]) for k in CURVE_KEYS) and max(abs(stats["e_pos"]), abs(stats["e_neg"])) <= self.cfg.energy_bound

    def check(self, step: int, stats: dict) -> dict | None:
        """Call after each step; returns a rollback event (dict) or None."""
        if self.healthy(stats):
            if self.candidate is not None:  # this step started from it and was healthy
                self.snapshot, self.snapshot_step = self.candidate, self.candidate_step
                self.candidate = None
            if step % self.cfg.snapshot_every == 0:
                self.candidate, self.candidate_step = copy.deepcopy(self.trainer.state_dict()), step
            return None
        self.candidate = None
        self.rollbacks += 1
        bad = ", ".join(f"{k}={stats[k]:.4g}" for k in CURVE_KEYS)
        if self.rollbacks > self.cfg.max_rollbacks:
            raise DivergenceError(f"training diverged at step {step} ({bad}) after {self.cfg.max_rollbacks} rollbacks")
        lr = self.trainer.lr * self.cfg.lr_decay
        self.trainer.load_state_dict(copy.deepcopy(self.snapshot))
        self.trainer.lr = lr
        return {"step": step, "rolled_back_to": self.snapshot_step, "lr": lr, "rollbacks": self.rollbacks, "why": bad}
