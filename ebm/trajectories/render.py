"""Rendering hand states offscreen: set the simulator to a state, draw it.

Any state works, recorded or generated: the joint angles and block pose are
written into a private ``MjData`` (the block's quaternion normalised first)
and ``mj_forward`` places the bodies, no physics step. The goal "ghost" block
of the env is hidden. Needs an offscreen GL: ``MUJOCO_GL=egl`` (or osmesa),
set before mujoco is imported. Render after any torch work that may load triton:
triton's LLVM loaded after Mesa's (EGL on CPU) segfaults; save PNGs with PIL.
"""

from __future__ import annotations

import copy

import numpy as np

from ebm.trajectories.record import OBJECT_QUAT, STATE_DIM

LOOKAT = (1.0, 0.915, 0.155)  # between the palm and the block's resting place (m)
CAMERA = {"distance": 0.32, "azimuth": 55.0, "elevation": -30.0}


class StateRenderer:
    def __init__(self, model, size: int = 128):
        import mujoco

        self.mujoco = mujoco
        self.model = copy.deepcopy(model)  # our own copy: hiding the target must not touch the env
        target = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, "target")
        if target >= 0:
            self.model.geom_rgba[self.model.geom_bodyid == target, 3] = 0.0
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, size, size)
        self.camera = mujoco.MjvCamera()
        self.camera.lookat[:] = LOOKAT
        self.camera.distance, self.camera.azimuth, self.camera.elevation = (
            CAMERA["distance"], CAMERA["azimuth"], CAMERA["elevation"])

    def render(self, states: np.ndarray) -> np.ndarray:
        """states [T, 31] -> frames uint8 [T, H, W, 3]."""
        frames = []
        for s in np.asarray(states, np.float64):
            s = s.copy()
            q = s[OBJECT_QUAT]
            s[OBJECT_QUAT] = q / max(np.linalg.norm(q), 1e-8)
            self.data.qpos[:STATE_DIM] = s
            self.mujoco.mj_forward(self.model, self.data)
            self.renderer.update_scene(self.data, self.camera)
            frames.append(self.renderer.render().copy())
        return np.stack(frames)

    def close(self) -> None:
        self.renderer.close()


def frame_grid(frames: np.ndarray, pad: int = 2, value: int = 128) -> np.ndarray:
    """frames [rows, cols, H, W, 3] -> one uint8 image, rows of frames with a grey border."""
    r, c, h, w, _ = frames.shape
    out = np.full((r * (h + pad) + pad, c * (w + pad) + pad, 3), value, np.uint8)
    for i in range(r):
        for j in range(c):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y : y + h, x : x + w] = frames[i, j]
    return out


def render_trajectories(env_id: str, trajectories, every: int, size: int) -> list[np.ndarray]:
    """Each trajectory [T, 31] drawn every ``every`` steps, with one renderer: [frames [F, H, W, 3], ...].
    Raises what MuJoCo raises without an offscreen GL."""
    from ebm.trajectories.record import make_env

    env = make_env(env_id, 1)
    try:
        renderer = StateRenderer(env.unwrapped.model, size)
        try:
            return [renderer.render(s[::every]) for s in trajectories]
        finally:
            renderer.close()
    finally:
        env.close()
