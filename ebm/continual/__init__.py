"""Continual (class-incremental) learning: split tasks, the EBM and the paper's baselines, one task loop."""

from __future__ import annotations

from ebm.continual.base import Method, mlp
from ebm.continual.config import METHOD_NAMES, ContinualSettings, build_continual
from ebm.continual.energy import EnergyClassifier
from ebm.continual.finetune import FineTune
from ebm.continual.loop import Result, run_tasks
from ebm.continual.lwf import LwF
from ebm.continual.regularizers import EWC, MAS, SI
from ebm.continual.tasks import Task, seen_classes, split_tasks, task_classes
from ebm.continual.vae import VAEReplay


def build_method(name: str, d_in: int, n_classes: int, s: ContinualSettings) -> Method:
    """A fresh learner ``name`` (one of METHOD_NAMES) on the shared MLP size."""
    c = s.common
    makers = {
        "finetune": lambda: FineTune(d_in, n_classes, c),
        "ewc": lambda: EWC(d_in, n_classes, c, s.ewc),
        "si": lambda: SI(d_in, n_classes, c, s.si),
        "mas": lambda: MAS(d_in, n_classes, c, s.mas),
        "lwf": lambda: LwF(d_in, n_classes, c, s.lwf),
        "vae": lambda: VAEReplay(d_in, n_classes, c, s.vae),
        "ebm": lambda: EnergyClassifier(d_in, n_classes, c, s.ebm),
    }
    if name not in makers:
        raise ValueError(f"unknown method {name!r} (allowed: {', '.join(METHOD_NAMES)})")
    return makers[name]()


__all__ = [
    "EWC", "MAS", "METHOD_NAMES", "SI", "ContinualSettings", "EnergyClassifier", "FineTune", "LwF", "Method",
    "Result", "Task", "VAEReplay", "build_continual", "build_method", "mlp", "run_tasks", "seen_classes",
    "split_tasks", "task_classes",
]
