"""Recording Shadow-hand trajectories from the real MuJoCo simulator.

The state of a trajectory step is the hand's 24 joint angles and the block's
pose (position xyz, quaternion wxyz): the simulator's ``qpos[:31]``, enough to
set the simulator back to that state and render it (velocities are left out:
a model sees them through consecutive states).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ebm.config import between, gt
from ebm.trajectories.policy import N_ACTIONS, FingerGait, GaitConfig

HAND_JOINTS = 24
STATE_DIM = HAND_JOINTS + 7
OBJECT_POS = slice(24, 27)
OBJECT_QUAT = slice(27, 31)
DROPPED_Z = 0.1  # block centre below this height (m): it fell off the palm (it starts near 0.17)


@dataclass(frozen=True)
class RecordConfig:
    env_id: str = "HandManipulateBlock-v1"
    n_trajectories: int = field(default=300, metadata=gt(0))
    length: int = field(default=40, metadata=gt(0))  # actions per trajectory; states = length + 1
    test_fraction: float = field(default=0.1, metadata=between(0, 0.9))
    workers: int = field(default=2, metadata=gt(0))  # processes recording in parallel (the arrays do not depend on it)


def make_env(env_id: str, max_steps: int):
    import gymnasium as gym
    import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)
    return gym.make(env_id, max_episode_steps=max_steps)


def state_names(env) -> list[str]:
    import mujoco

    m = env.unwrapped.model
    joints = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, i) for i in range(HAND_JOINTS)]
    return joints + ["object:x", "object:y", "object:z", "object:qw", "object:qx", "object:qy", "object:qz"]


def trajectory_seeds(seed: int, index: int) -> tuple[int, np.random.Generator]:
    """(env reset seed, policy rng) of trajectory ``index``: any trajectory can be re-recorded alone."""
    ss = np.random.SeedSequence([seed, index])
    env_seed, policy_seed = ss.generate_state(2)
    return int(env_seed), np.random.default_rng(int(policy_seed))


def record_one(env, gait_cfg: GaitConfig, length: int, seed: int, index: int) -> dict[str, np.ndarray]:
    """One trajectory: states [T+1, 31], actions [T, 20], random [T] (which actions were random)."""
    env_seed, rng = trajectory_seeds(seed, index)
    env.reset(seed=env_seed)
    u = env.unwrapped
    policy = FingerGait(gait_cfg, rng, dt=u.dt)
    states = np.empty((length + 1, STATE_DIM), np.float32)
    actions = np.empty((length, N_ACTIONS), np.float32)
    random = np.zeros(length, bool)
    states[0] = u.data.qpos[:STATE_DIM]
    for t in range(length):
        actions[t], random[t] = policy.action(t), policy.is_random(t)
        advance(u, actions[t])
        states[t + 1] = u.data.qpos[:STATE_DIM]
    return {"states": states, "actions": actions, "random": random}


def advance(u, action: np.ndarray) -> None:
    """``env.step(action)`` of the unwrapped robot env without its observation, goal check and reward: the
    same calls that move the simulation (clip, actuate, ``n_substeps`` MuJoCo steps, callback) in ~65 % of
    the time: the observation dict and the reward, which nothing here reads, took the other third (a test
    checks the states are identical)."""
    action = np.clip(action, u.action_space.low, u.action_space.high)
    u._set_action(action)
    u._mujoco_step(action)
    u._step_callback()


_WORKER_ENV = None  # a worker process's own env (multiprocessing initializer)


def _start_worker(env_id: str, length: int) -> None:
    global _WORKER_ENV
    _WORKER_ENV = make_env(env_id, length)


def _record_chunk(args) -> tuple[list[dict[str, np.ndarray]], list[str]]:
    """In a worker: the trajectories ``indices`` with the worker's env."""
    gait_cfg, length, seed, indices = args
    return [record_one(_WORKER_ENV, gait_cfg, length, seed, i) for i in indices], state_names(_WORKER_ENV)


def record(cfg: RecordConfig, gait_cfg: GaitConfig, seed: int,
           progress: Callable[[range], range] = lambda r: r) -> dict[str, np.ndarray]:
    """All trajectories, split 90/10 (fixed by seed): train_/test_ states, actions, random.

    With ``cfg.workers`` > 1 the trajectories are recorded by that many processes, in chunks;
    each trajectory depends only on (seed, index), so the arrays are the same for any number."""
    n = cfg.n_trajectories
    workers = min(cfg.workers, n)
    if workers <= 1:
        env = make_env(cfg.env_id, cfg.length)
        try:
            runs = [record_one(env, gait_cfg, cfg.length, seed, i) for i in progress(range(n))]
            names = state_names(env)
        finally:
            env.close()
    else:
        import multiprocessing as mp

        chunk = max(1, min(25, -(-n // (4 * workers))))
        jobs = [(gait_cfg, cfg.length, seed, list(range(i, min(i + chunk, n)))) for i in range(0, n, chunk)]
        runs = []
        # spawn: a fresh interpreter per worker (MuJoCo's GL and torch's threads do not survive a fork)
        with mp.get_context("spawn").Pool(workers, _start_worker, (cfg.env_id, cfg.length)) as pool:
            done = pool.imap(_record_chunk, jobs)  # in order: trajectory i is runs[i]
            bar = iter(progress(range(n)))
            for part, names in done:
                runs += part
                for _ in part:
                    next(bar, None)
            next(bar, None)  # close the bar
    n_test = int(round(n * cfg.test_fraction))
    perm = np.random.default_rng(seed).permutation(n)
    split = {"test": np.sort(perm[:n_test]), "train": np.sort(perm[n_test:])}
    out = {"state_names": np.array(names)}
    for name, idx in split.items():
        out[f"{name}_index"] = idx
        for key in ("states", "actions", "random"):
            out[f"{name}_{key}"] = np.stack([runs[i][key] for i in idx]) if len(idx) else np.zeros((0,))
    return out


def motion_stats(states: np.ndarray) -> dict[str, float]:
    """How much the block moves in trajectories [N, T+1, 31]: rotation (deg), displacement (m), drops."""
    q0, q1 = states[:, 0, OBJECT_QUAT], states[:, -1, OBJECT_QUAT]
    dot = np.abs((q0 * q1).sum(-1) / (np.linalg.norm(q0, axis=-1) * np.linalg.norm(q1, axis=-1)))
    angle = np.degrees(2 * np.arccos(np.clip(dot, 0, 1)))
    disp = np.linalg.norm(states[:, -1, OBJECT_POS] - states[:, 0, OBJECT_POS], axis=-1)
    return {"block_rotation_deg": float(angle.mean()), "block_displacement_m": float(disp.mean()),
            "dropped_share": float((states[:, -1, OBJECT_POS.start + 2] < DROPPED_Z).mean())}
