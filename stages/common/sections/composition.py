"""Params sections of the composition stages: ``toy2d``, ``dsprites``, ``factor_judge``, ``factors``,
``compose``, ``crossproduct`` (their shared data and checkpoint helpers: stages/common/composition.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ebm.composition.compose import ComposeConfig, Scheme
from ebm.composition.crossproduct import CrossProductConfig
from ebm.composition.dsprites import FACTORS
from ebm.composition.judge import JudgeConfig, JudgeTolerance
from ebm.config import ConfigError, as_mapping, between, build, build_split, ge, gt
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


class FactorsSection(NamedTuple):
    """The factors section: the settings every factor model shares, and each factor's own (``per_factor``:
    the shared settings with that factor's overrides; a factor not listed there trains on the shared ones)."""

    cfg: FactorParams
    net: NetParams
    train: TrainConfig
    langevin: LangevinConfig
    per_factor: dict

    def of(self, factor: str) -> tuple[NetParams, TrainConfig, LangevinConfig]:
        """(network, training, Langevin) settings of one factor's model."""
        return self.per_factor.get(factor, (self.net, self.train, self.langevin))


def check_factors(v, p):
    v = dict(as_mapping(v, p))
    per = as_mapping(v.pop("per_factor", None) or {}, f"{p}per_factor")
    classes = (FactorParams, NetParams, TrainConfig, LangevinConfig)
    cfg, net, train, langevin = build_split(v, p, *classes)
    _check_factors(cfg.names, f"{p}names")
    _check_factors(list(per), f"{p}per_factor")
    own = {f.name for c in classes[1:] for f in dataclasses.fields(c)}
    settings = {}
    for factor, overrides in per.items():
        key = f"{p}per_factor.{factor}."
        overrides = as_mapping(overrides, key[:-1])
        unknown = sorted(str(k) for k in overrides if k not in own)
        if unknown:
            raise ConfigError(f"{key}{unknown[0]}: not a setting of one factor's model (allowed: {', '.join(sorted(own))})")
        try:  # the shared keys are valid (built above): an error here is an override's, named as such
            settings[factor] = build_split({**v, **overrides}, p, *classes)[1:]
        except ConfigError as e:
            raise ConfigError(str(e).replace(p, key, 1)) from None
    return FactorsSection(cfg, net, train, langevin, settings)


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
