"""record: Shadow-hand trajectories from MuJoCo (HandManipulateBlock-v1), the data of Figures 12-13.

A scripted finger gait moves the block; every 4th action is random (the
paper's recipe for diversity). N trajectories of T steps, split 90/10.

Outputs: data/trajectories/trajectories.npz (train_/test_ states [N, T+1, 31],
actions [N, T, 20], random [N, T], index; state_names, env_id, seed),
data/trajectories/meta.json (env and library versions, seed, gait),
metrics/record.json (how far the block moves), plots/images/record/trajectories.png.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import asdict
from importlib.metadata import version

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must be set before mujoco is imported

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ebm.trajectories.record import motion_stats, record  # noqa: E402
from ebm.trajectories.render import frame_grid  # noqa: E402
from stages.common.io import UserError, atomic_path  # noqa: E402
from stages.common.main import run_main  # noqa: E402
from stages.common.params import load_params, section_params  # noqa: E402
from stages.common.sections import record as record_params  # noqa: E402
from stages.common.paths import METRICS, PLOTS, trajectories_dir  # noqa: E402
from stages.common.render import rendered  # noqa: E402
from stages.common.tracking import stage_run  # noqa: E402

FIGURE = PLOTS / "images" / "record" / "trajectories.png"


def render_grid(env_id: str, trajectories: np.ndarray, every: int, size: int, path) -> None:
    """One row per trajectory, a frame every ``every`` steps."""
    from PIL import Image

    frames = np.stack(rendered(env_id, trajectories, every, size, "record.render"))  # [n, f, H, W, 3]
    with atomic_path(path) as tmp:
        Image.fromarray(frame_grid(frames)).save(tmp, format="png")


def main(args) -> None:
    params = load_params(record_params.SECTIONS)
    cfg, gait, render = params["record"]
    seed = params["seed"]
    try:
        data = record(cfg, gait, seed, progress=lambda r: tqdm(r, desc="record", unit="traj"))
    except Exception as e:  # gymnasium: unknown env id, or a broken MuJoCo install
        raise UserError(f"record.env_id = {cfg.env_id!r}: cannot run it ({type(e).__name__}: "
                        f"{str(e).splitlines()[0][:160]})") from None
    stats = motion_stats(data["train_states"])
    versions = {p: version(p) for p in ("gymnasium", "gymnasium-robotics", "mujoco")}
    meta = {"env_id": cfg.env_id, "seed": seed, "versions": versions, "length": cfg.length,
            "n_train": len(data["train_index"]), "n_test": len(data["test_index"]),
            "state": "hand joint angles (24, rad) + block position (3, m) + block quaternion (4, wxyz)",
            "state_names": data["state_names"].tolist(), "gait": asdict(gait), "record": asdict(cfg)}
    with stage_run("record", None, section_params(params, "seed", "record")) as run:
        with atomic_path(trajectories_dir()) as tmp:
            tmp.mkdir(parents=True)
            with open(tmp / "trajectories.npz", "wb") as f:
                np.savez_compressed(f, **data, env_id=np.array(cfg.env_id), seed=np.array(seed))
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            shutil.rmtree(trajectories_dir(), ignore_errors=True)  # a run outside DVC: replace the old arrays
        FIGURE.parent.mkdir(parents=True, exist_ok=True)  # a DVC output even when rendering is off (then empty)
        if render.render and render.n_render > 0:
            render_grid(cfg.env_id, data["train_states"][: render.n_render], render.render_every,
                        render.render_size, FIGURE)
            run.log_artifact(FIGURE)
        random_share = float(np.concatenate([data["train_random"], data["test_random"]]).mean())
        run.write_metrics(METRICS / "record.json", {**stats, "n_train": meta["n_train"], "n_test": meta["n_test"],
                                                    "length": cfg.length, "random_action_share": random_share})
    print(f"record: {meta['n_train']}+{meta['n_test']} trajectories of {cfg.length} steps from {cfg.env_id}; block "
          f"turns {stats['block_rotation_deg']:.1f} deg, moves {100 * stats['block_displacement_m']:.1f} cm, "
          f"{100 * stats['dropped_share']:.0f}% dropped -> {trajectories_dir()}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
