"""The settings of Figure 13's protocol (the ``trajectory.evaluate`` params section), apart from the
protocol itself (``evaluate.py``), so that the training stages' params schema does not import it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ebm.config import between, gt


@dataclass(frozen=True)
class EvalConfig:
    horizons: tuple[int, ...] = (1, 2, 5, 10, 20, 40)
    start_every: int = field(default=4, metadata=gt(0))  # rollouts start every this many steps of a trajectory
    window_steps: int = field(default=20, metadata=gt(0))  # Langevin steps of the window EBM's first window
    samples: int = field(default=1, metadata=between(1, 100))  # EBM rollouts per start
