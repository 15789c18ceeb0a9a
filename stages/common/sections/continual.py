"""Params section of the continual-learning experiment: ``continual`` (its schema is
``ebm.continual.config``: the methods' settings are the library's)."""

from __future__ import annotations

from ebm.continual import build_continual
from ebm.continual.config import SUBSECTIONS
from stages.common.params import flatten

SECTIONS = {"continual": build_continual}


def method_params(params: dict, method: str) -> dict:
    """What a method's MLflow run records: the seed, the shared continual keys and its own sub-section."""
    raw = params["_raw"].get("continual") or {}
    picked = {k: v for k, v in raw.items() if k not in SUBSECTIONS}
    if method in SUBSECTIONS:
        picked[method] = raw.get(method) or {}
    return {"seed": params["seed"], **flatten({"continual": picked})}
