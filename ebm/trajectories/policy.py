"""The scripted controller that generates hand trajectories: a finger gait.

The paper's trajectories come from a trained policy with every 4th action
replaced by a random one. We have no trained policy, so a scripted one plays
its part: a travelling flexion wave over the four fingers (first finger to
little finger or back), the thumb sweeping against it and the wrist rocking
the palm. Each trajectory draws its own gait (frequency, direction, amplitude,
posture), so the block is pushed and rolled differently every time. Measured
on the real env over 40 steps (1.6 s): the block turns ~40 deg and moves ~4 cm,
against ~9 deg and 4 mm when the hand holds still (zero action).

Actions are the env's absolute joint targets in [-1, 1] (20 actuators).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ebm.config import between, ge, gt

N_ACTIONS = 20
# actuator indices of HandManipulateBlock (robot0:A_*): the two flexors (J2, J1) of each finger
FINGER_FLEXORS = ((3, 4), (6, 7), (9, 10), (13, 14))  # FF, MF, RF, LF
WRIST = (0, 1)  # WRJ1, WRJ0
THUMB_ROTATE, THUMB_SWING, THUMB_FLEX = 15, 16, (18, 19)  # THJ4, THJ3, THJ1/THJ0


@dataclass(frozen=True)
class GaitConfig:
    freq_min: float = field(default=0.8, metadata=gt(0))  # gait cycles per second of sim time
    freq_max: float = field(default=2.0, metadata=gt(0))
    amp_min: float = field(default=0.3, metadata=between(0, 1))  # flexion swing (action units)
    amp_max: float = field(default=1.0, metadata=between(0, 1))
    posture_min: float = field(default=-0.2, metadata=between(-1, 1))  # mean flexion (action units)
    posture_max: float = field(default=0.4, metadata=between(-1, 1))
    wrist_amp: float = field(default=0.8, metadata=between(0, 1))
    thumb_amp: float = field(default=1.0, metadata=between(0, 1))
    jitter: float = field(default=0.3, metadata=between(0, 1))  # per-trajectory offset of every actuator
    random_every: int = field(default=4, metadata=ge(0))  # every k-th action uniform random (the paper: 4); 0 = never


class FingerGait:
    """One trajectory's controller: ``action(t)`` for step t, with its own random gait."""

    def __init__(self, cfg: GaitConfig, rng: np.random.Generator, dt: float):
        self.cfg, self.rng, self.dt = cfg, rng, dt
        self.freq = rng.uniform(cfg.freq_min, cfg.freq_max)
        self.direction = rng.choice([-1.0, 1.0])  # wave runs first -> little finger or back
        self.amp = rng.uniform(cfg.amp_min, cfg.amp_max)
        self.posture = rng.uniform(cfg.posture_min, cfg.posture_max)
        self.phase = rng.uniform(0, 2 * np.pi)
        self.offset = rng.uniform(-cfg.jitter, cfg.jitter, N_ACTIONS)

    def scripted(self, t: int) -> np.ndarray:
        w = 2 * np.pi * self.freq * t * self.dt + self.phase
        a = self.offset.copy()
        for i, joints in enumerate(FINGER_FLEXORS):
            a[list(joints)] = self.posture + self.amp * np.sin(w + self.direction * i * np.pi / 2)
        a[THUMB_ROTATE] = self.cfg.thumb_amp * np.sin(w)
        a[THUMB_SWING] = self.cfg.thumb_amp * np.cos(w)
        flex = self.posture + self.amp * np.sin(w + np.pi)  # thumb closes as the fingers open
        a[THUMB_FLEX[0]], a[THUMB_FLEX[1]] = flex, -flex
        a[WRIST[0]] = self.cfg.wrist_amp * np.sin(w / 2)
        a[WRIST[1]] = self.cfg.wrist_amp * np.cos(w / 2)
        return np.clip(a, -1.0, 1.0)

    def is_random(self, t: int) -> bool:
        k = self.cfg.random_every
        return k > 0 and t % k == k - 1

    def action(self, t: int) -> np.ndarray:
        if self.is_random(t):
            return self.rng.uniform(-1.0, 1.0, N_ACTIONS)
        return self.scripted(t)
