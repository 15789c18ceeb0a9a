"""Rendered hand states for the figures of record and evaluate_traj, a missing offscreen GL as one line."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must be set before mujoco is imported

import numpy as np  # noqa: E402

from ebm.trajectories.render import render_trajectories  # noqa: E402
from stages.common.io import UserError  # noqa: E402


def rendered(env_id: str, trajectories, every: int, size: int, off_key: str) -> list[np.ndarray]:
    """``ebm.trajectories.render.render_trajectories``; without a GL, one line naming ``off_key`` (the
    params key that turns rendering off)."""
    try:
        return render_trajectories(env_id, trajectories, every, size)
    except Exception as e:  # no GL context: EGL/OSMesa missing
        raise UserError(f"rendering failed ({type(e).__name__}: {str(e).splitlines()[0][:120]}); install an "
                        "offscreen GL (apt-get install libegl1 for MUJOCO_GL=egl, or libosmesa6 with "
                        f"MUJOCO_GL=osmesa) or set {off_key}: false") from None
