"""Overrides that shrink the default params.yaml to seconds, for end-to-end tests.

Every stage section that costs time gets an entry here, so the end-to-end
`dvc repro` test exercises the whole DAG quickly.
"""

from __future__ import annotations

import copy

TINY = {
    "classifier": {"epochs": 2},
    "train": {"n_iters": 6, "batch_size": 16, "n_steps": 3, "history_every": 2, "history_size": 3, "log_every": 2},
    "sample": {"n_chains": 20, "rounds": 2, "settle_rounds": 1, "n_steps": 3},
    "evaluate": {"n_reference": 50},
    "restore": {"n_images": 10, "denoise_rounds": 1, "inpaint_rounds": 1, "n_steps": 2},
    "crossclass": {"n_images": 10, "rounds": 2, "n_steps": 2},
    "ood": {"n_images": 20},
    "robustness": {"n_images": 10, "linf_eps": [0.0, 0.1], "l2_eps": [0.5], "pgd_steps": 2, "n_steps": 2},
    "toy2d": {"n_points": 500, "n_iters": 4, "batch_size": 32, "n_steps": 3, "n_samples": 50, "sample_steps": 3,
              "n_traces": 3, "log_every": 2},
    "dsprites": {"n_images": 1000},  # + the cross-product slice (18,432 images)
    "factor_judge": {"epochs": 1},
    "factors": {"n_iters": 4, "n_steps": 3, "log_every": 2},  # per_factor lengths too (tiny() below)
    "compose": {"n_samples": 20, "n_steps": 3, "n_show": 4},
    "crossproduct": {"n_iters": 3, "n_steps": 3, "n_test": 16, "sample_steps": 3, "seen": [0.0, 1.0], "gen_steps": 5},
    "record": {"n_trajectories": 6, "length": 10, "render": False},  # the real simulator, no GL needed
    "trajectory": {"context": 2, "ebm_cond": {"n_iters": 3, "n_steps": 2, "log_every": 1, "memory_frames": 2},
                   "ebm_uncond": {"n_iters": 3, "n_steps": 2, "log_every": 1}, "fc": {"n_iters": 3, "log_every": 1},
                   "lstm": {"n_iters": 3, "log_every": 1},
                   "evaluate": {"horizons": [1, 2], "window_steps": 2, "render": False}},
    "continual": {"n_seeds": 1, "epochs": 1, "hidden": [16], "ewc": {"n_samples": 10}, "mas": {"n_samples": 10},
                  "vae": {"epochs": 1, "latent": 2}, "ebm": {"epochs": 1, "n_noise": 4}},
}


def tiny(params: dict) -> dict:
    """``params`` with the TINY values merged in (two levels deep)."""
    out = copy.deepcopy(params)
    for section, values in TINY.items():
        if isinstance(values, dict) and isinstance(out.get(section), dict):
            for k, v in values.items():
                if isinstance(v, dict) and isinstance(out[section].get(k), dict):
                    out[section][k].update(v)
                else:
                    out[section][k] = v
        else:
            out[section] = values
    for overrides in (out.get("factors", {}).get("per_factor") or {}).values():  # one factor's own length
        overrides["n_iters"] = TINY["factors"]["n_iters"]
    return out
