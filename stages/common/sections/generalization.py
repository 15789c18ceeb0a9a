"""Params sections of the paper's §4 experiments on the trained digits models: ``restore``,
``crossclass``, ``ood``, ``robustness``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ebm.config import ConfigError, build_split, gt
from ebm.generalization import CrossClassConfig, OODConfig, RestoreConfig, RobustnessConfig
from ebm.sampling import LangevinConfig


@dataclass(frozen=True)
class ExperimentParams:  # restore, crossclass, ood, robustness: which model, its data, how many images
    variant: str = "digits_cond"
    dataset: str = "digits"  # the variant's dataset (dvc.yaml needs it to name the data dependency)
    n_images: int = field(default=200, metadata=gt(0))
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when present, else the CPU


def _crossclass(v, p):
    exp, cfg, langevin = build_split(v, p, ExperimentParams, CrossClassConfig, LangevinConfig)
    for i, sigma in enumerate(cfg.noise_sweep):  # the builder has checked they are finite numbers
        if sigma < 0:
            raise ConfigError(f"{p}noise_sweep[{i}] = {sigma!r}: must be >= 0")
    return exp, cfg, langevin


SECTIONS = {
    "restore": lambda v, p: build_split(v, p, ExperimentParams, RestoreConfig, LangevinConfig),
    "crossclass": _crossclass,
    "ood": lambda v, p: build_split(v, p, ExperimentParams, OODConfig),
    "robustness": lambda v, p: build_split(v, p, ExperimentParams, RobustnessConfig, LangevinConfig),
}
