"""Params sections of the composition stages: ``toy2d``, ``dsprites``, ``factor_judge``, ``factors``,
``compose``, ``crossproduct`` (their shared data and checkpoint helpers: stages/common/composition.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ebm.composition.compose import ComposeConfig, Scheme
from ebm.composition.crossproduct import CrossProductConfig
from ebm.composition.dsprites import FACTORS
from ebm.composition.judge import JudgeConfig, JudgeTolerance
from ebm.config import ConfigError, between, build, build_split, ge, gt
from ebm.sampling import LangevinConfig
from ebm.training import TrainConfig

REAL_URL = "https://github.com/deepmind/dsprites-dataset/raw/master/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"


@dataclass(frozen=True)
class DSpritesParams:
    source: Literal["render", "real"] = "render"
    url: str = REAL_URL
    image_size: int = field(default=16, metadata=gt(0))
    n_images: int = field(default=40000, metadata=ge(0))  # 0 = every combination
    test_fraction: float = field(default=0.1, metadata={"gt": 0, "le": 0.9})
    slice_orientation: int = field(default=15, metadata=between(0, 39))  # the original's 30π/39


@dataclass(frozen=True)
class NetParams:
    """The energy MLP of the toy and of each factor, and how often to log."""

    hidden: tuple[int, ...] = (128, 128)
    act: Literal["swish", "relu", "lrelu"] = "swish"
    spectral_norm: bool = False
    log_every: int = field(default=20, metadata=gt(0))


@dataclass(frozen=True)
class Toy2DParams:
    n_points: int = field(default=10000, metadata=gt(0))  # training points per density
    input_scale: float = field(default=8.0, metadata=gt(0))
    n_samples: int = field(default=1000, metadata=gt(0))  # chains for the metric
    sample_steps: int = field(default=100, metadata=gt(0))
    n_traces: int = field(default=12, metadata=ge(0))  # trajectories drawn
    scheme: Scheme = "sum"


@dataclass(frozen=True)
class FactorParams:
    names: tuple[str, ...] = FACTORS
    label_gain: bool = True  # the label also scales each hidden layer (MLPEnergy), not only biases it


def _check_factors(names, key: str) -> None:
    for i, n in enumerate(names):
        if n not in FACTORS:
            raise ConfigError(f"{key}[{i}] = {n!r}: unknown factor (allowed: {', '.join(FACTORS)})")


def _choices(names, allowed, key: str) -> None:
    for i, n in enumerate(names):
        if n not in allowed:
            raise ConfigError(f"{key}[{i}] = {n!r}: unknown value (allowed: {', '.join(allowed)})")


def check_factors(v, p):
    cfg, net, train, langevin = build_split(v, p, FactorParams, NetParams, TrainConfig, LangevinConfig)
    _check_factors(cfg.names, f"{p}names")
    return cfg, net, train, langevin


def check_compose(v, p):
    cfg, tol, langevin = build_split(v, p, ComposeConfig, JudgeTolerance, LangevinConfig)
    for i, combo in enumerate(cfg.combos):
        _check_factors(combo, f"{p}combos[{i}]")
    _choices(cfg.schemes, ("sum", "alternate"), f"{p}schemes")
    return cfg, tol, langevin


def check_cross(v, p):
    cfg, train, langevin = build_split(v, p, CrossProductConfig, TrainConfig, LangevinConfig)
    _choices(cfg.experiments, ("size_position", "shape_position"), f"{p}experiments")
    for i, s in enumerate(cfg.seen):
        if not 0 <= s <= 1:
            raise ConfigError(f"{p}seen[{i}] = {s!r}: must be in [0, 1]")
    return cfg, train, langevin


SECTIONS = {
    "toy2d": lambda v, p: build_split(v, p, Toy2DParams, NetParams, TrainConfig, LangevinConfig),
    "dsprites": lambda v, p: build(DSpritesParams, v, p),
    "factor_judge": lambda v, p: build(JudgeConfig, v, p),
    "factors": check_factors,
    "compose": check_compose,
    "crossproduct": check_cross,
}
