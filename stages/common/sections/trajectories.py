"""Params section of the trajectory models' stages (train_traj, evaluate_traj): ``trajectory``, its top
keys and one subsection per model and for the evaluation (the recording's section: record.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ebm.config import ConfigError, build, build_split, gt
from ebm.sampling import LangevinConfig
from ebm.trajectories.baselines import RegressionConfig
from ebm.trajectories.eval_config import EvalConfig
from ebm.trajectories.models import TRAJECTORY_MODELS, FCConfig, LSTMConfig, NetConfig
from ebm.trajectories.rollout import ChainConfig
from ebm.training import GuardConfig, TrainConfig
from stages.common.sections.record import RenderParams

MODELS_ALL = tuple(TRAJECTORY_MODELS)  # ebm_cond, ebm_uncond, fc, lstm


@dataclass(frozen=True)
class TrajectoryParams:
    context: int = field(default=4, metadata=gt(0))  # recent states the conditional models see (window = +1)
    models: tuple[str, ...] = MODELS_ALL


@dataclass(frozen=True)
class LoopParams:
    log_every: int = field(default=20, metadata=gt(0))


@dataclass(frozen=True)
class EBMLoopParams(LoopParams):
    resume_every: int = field(default=100, metadata=gt(0))  # resume state written this often


def _ebm(v, p):
    net, train, langevin, chain, guard, loop = build_split(v, p, NetConfig, TrainConfig, LangevinConfig, ChainConfig,
                                                           GuardConfig, EBMLoopParams)
    if langevin.clamp:
        raise ConfigError(f"{p}clamp = true: trajectory states are standardised, not in [0, 1]; set it false")
    if net.memory_frames and p.endswith("ebm_uncond."):
        raise ConfigError(f"{p}memory_frames = {net.memory_frames}: only the conditional EBM has a memory; set it 0")
    return net, train, langevin, chain, guard, loop


def _fc(v, p):
    return build_split(v, p, FCConfig, RegressionConfig, LoopParams)


def _lstm(v, p):
    return build_split(v, p, LSTMConfig, RegressionConfig, LoopParams)


SUBSECTIONS = {"ebm_cond": _ebm, "ebm_uncond": _ebm, "fc": _fc, "lstm": _lstm,
               "evaluate": lambda v, p: build_split_eval(v, p)}


def build_split_eval(v, p):
    cfg, render = build_split(v, p, EvalConfig, RenderParams)
    for i, h in enumerate(cfg.horizons):
        if h < 1:
            raise ConfigError(f"{p}horizons[{i}] = {h!r}: must be >= 1")
    if not cfg.horizons:
        raise ConfigError(f"{p}horizons: at least one horizon")
    return cfg, render


def check_trajectory(v, p) -> dict:
    """The trajectory section: top-level keys plus one subsection per model and one for evaluation."""
    if v is not None and not isinstance(v, dict):
        raise ConfigError(f"{p.rstrip('.')}: expected a mapping")
    v = dict(v or {})
    subs = {name: v.pop(name, None) for name in SUBSECTIONS}
    top = build(TrajectoryParams, v, p)
    for i, m in enumerate(top.models):
        if m not in MODELS_ALL:
            raise ConfigError(f"{p}models[{i}] = {m!r}: unknown model (allowed: {', '.join(MODELS_ALL)})")
    out = {"top": top}
    for name, check in SUBSECTIONS.items():
        out[name] = check(subs[name], f"{p}{name}.")
    if out["ebm_cond"][0].memory_frames > top.context:
        raise ConfigError(f"{p}ebm_cond.memory_frames = {out['ebm_cond'][0].memory_frames}: at most "
                          f"{p}context = {top.context}")
    return out


SECTIONS = {"trajectory": check_trajectory}
