"""record: Shadow-hand trajectories from MuJoCo (HandManipulateBlock-v1), the data of Figures 12-13.

A scripted finger gait moves the block; every 4th action is random (the
paper's recipe for diversity). N trajectories of T steps, split 90/10.

Outputs (their contents: stages/common/recording.py): data/trajectories/{trajectories.npz,meta.json},
metrics/record.json (how far the block moves), plots/images/record/trajectories.png.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must be set before mujoco is imported

from tqdm import tqdm  # noqa: E402

from ebm.trajectories.record import motion_stats, record  # noqa: E402
from stages.common.io import UserError  # noqa: E402
from stages.common.main import run_main  # noqa: E402
from stages.common.params import load_params, section_params  # noqa: E402
from stages.common.paths import METRICS, PLOTS, trajectories_dir  # noqa: E402
from stages.common.recording import recording_meta, recording_metrics, render_grid, save_recording  # noqa: E402
from stages.common.sections import record as record_params  # noqa: E402
from stages.common.tracking import stage_run  # noqa: E402

FIGURE = PLOTS / "images" / "record" / "trajectories.png"


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
    meta = recording_meta(cfg, gait, seed, data)
    with stage_run("record", None, section_params(params, "seed", "record")) as run:
        save_recording(data, meta, trajectories_dir())
        FIGURE.parent.mkdir(parents=True, exist_ok=True)  # a DVC output even when rendering is off (then empty)
        if render.render and render.n_render > 0:
            render_grid(cfg.env_id, data["train_states"][: render.n_render], render.render_every,
                        render.render_size, FIGURE)
            run.log_artifact(FIGURE)
        run.write_metrics(METRICS / "record.json", recording_metrics(data, stats, meta))
    print(f"record: {meta['n_train']}+{meta['n_test']} trajectories of {cfg.length} steps from {cfg.env_id}; block "
          f"turns {stats['block_rotation_deg']:.1f} deg, moves {100 * stats['block_displacement_m']:.1f} cm, "
          f"{100 * stats['dropped_share']:.0f}% dropped -> {trajectories_dir()}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
