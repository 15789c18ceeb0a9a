"""What the record stage writes: the recorded arrays with their metadata (data/trajectories), the metrics
of the recording and the rendered grid of training trajectories."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ebm.trajectories.render import frame_grid
from stages.common.io import atomic_path
from stages.common.render import rendered


def recording_meta(cfg, gait, seed: int, data: dict) -> dict:
    """data/trajectories/meta.json: env and library versions, seed, split sizes, the state layout, gait."""
    versions = {p: version(p) for p in ("gymnasium", "gymnasium-robotics", "mujoco")}
    return {"env_id": cfg.env_id, "seed": seed, "versions": versions, "length": cfg.length,
            "n_train": len(data["train_index"]), "n_test": len(data["test_index"]),
            "state": "hand joint angles (24, rad) + block position (3, m) + block quaternion (4, wxyz)",
            "state_names": data["state_names"].tolist(), "gait": asdict(gait), "record": asdict(cfg)}


def save_recording(data: dict, meta: dict, path: Path) -> None:
    """``path``/trajectories.npz (the arrays, env_id, seed) and meta.json, replacing the folder at once.

    trajectories.npz: train_/test_ states [N, T+1, 31], actions [N, T, 20], random [N, T], index;
    state_names, env_id, seed."""
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        with open(tmp / "trajectories.npz", "wb") as f:
            np.savez_compressed(f, **data, env_id=np.array(meta["env_id"]), seed=np.array(meta["seed"]))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(path, ignore_errors=True)  # a run outside DVC: replace the old arrays


def recording_metrics(data: dict, stats: dict, meta: dict) -> dict:
    """metrics/record.json: how far the block moves (``stats``), split sizes, and the share of random actions."""
    random_share = float(np.concatenate([data["train_random"], data["test_random"]]).mean())
    return {**stats, "n_train": meta["n_train"], "n_test": meta["n_test"], "length": meta["length"],
            "random_action_share": random_share}


def render_grid(env_id: str, trajectories: np.ndarray, every: int, size: int, path) -> None:
    """One row per trajectory, a frame every ``every`` steps."""
    from PIL import Image

    frames = np.stack(rendered(env_id, trajectories, every, size, "record.render"))  # [n, f, H, W, 3]
    with atomic_path(path) as tmp:
        Image.fromarray(frame_grid(frames)).save(tmp, format="png")
