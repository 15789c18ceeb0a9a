"""Params section of the hand-trajectory recording: ``record`` (the models' section, ``trajectory``,
is in trajectories.py). Apart from the models, so that editing them never re-records."""

from __future__ import annotations

from dataclasses import dataclass, field

from ebm.config import ConfigError, build_split, ge, gt
from ebm.trajectories.policy import GaitConfig
from ebm.trajectories.record import RecordConfig


@dataclass(frozen=True)
class RenderParams:
    render: bool = True  # rendered views (needs an offscreen GL: MUJOCO_GL=egl or osmesa)
    n_render: int = field(default=4, metadata=ge(0))  # trajectories drawn (record) / rollouts per model (evaluate)
    render_every: int = field(default=5, metadata=gt(0))  # one frame every this many steps
    render_size: int = field(default=96, metadata=gt(0))  # pixels


def check_record(v, p):
    cfg, gait, render = build_split(v, p, RecordConfig, GaitConfig, RenderParams)
    for lo, hi in (("freq_min", "freq_max"), ("amp_min", "amp_max"), ("posture_min", "posture_max")):
        if getattr(gait, lo) > getattr(gait, hi):
            raise ConfigError(f"{p}{lo} = {getattr(gait, lo)!r}: must be <= {p}{hi} ({getattr(gait, hi)!r})")
    return cfg, gait, render


SECTIONS = {"record": check_record}
