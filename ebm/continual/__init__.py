"""Continual (class-incremental) learning: split tasks, the EBM and the paper's baselines, one task loop."""

from __future__ import annotations

from ebm.continual.base import METHODS, Method, mlp
from ebm.continual.config import METHOD_NAMES, ContinualSettings, build_continual
from ebm.continual.energy import EnergyClassifier
from ebm.continual.finetune import FineTune
from ebm.continual.loop import Result, run_tasks
from ebm.continual.lwf import LwF
from ebm.continual.regularizers import EWC, MAS, SI
from ebm.continual.tasks import Task, seen_classes, split_tasks, task_classes
from ebm.continual.vae import VAEReplay


def build_method(name: str, d_in: int, n_classes: int, s: ContinualSettings) -> Method:
    """A fresh learner ``name`` (one of METHODS) on the shared MLP size."""
    return METHODS[name](d_in, n_classes, s)


__all__ = [
    "EWC", "MAS", "METHOD_NAMES", "METHODS", "SI", "ContinualSettings", "EnergyClassifier", "FineTune", "LwF", "Method",
    "Result", "Task", "VAEReplay", "build_continual", "build_method", "mlp", "run_tasks", "seen_classes",
    "split_tasks", "task_classes",
]
