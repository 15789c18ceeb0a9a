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
    return out
