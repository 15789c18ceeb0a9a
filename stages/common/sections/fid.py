"""Params section of the fid stage: ``fid`` (its Inception network: stages/common/fid.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ebm.accel import AccelConfig
from ebm.config import ConfigError, as_mapping, build_split, ge, gt
from ebm.imagemetrics import ScoreConfig
from ebm.sampling import LangevinConfig, PersistentConfig
from stages.common.schema import check_rounds
from stages.common.sections.data import DATASETS


@dataclass(frozen=True)
class FidParams:
    inception_weights: str = ""  # a local copy of stages/common/fid.py's INCEPTION_URL file; "" fetches it
    models: tuple[str, ...] = ("single", "ensemble")  # the final model and/or the historical ensemble
    n_images: int = field(default=50000, metadata=gt(0))  # samples scored (the original: 50 x 1000)
    reference: Literal["all", "test"] = "all"  # real images: train + test (CIFAR-10, as the original) | test (ImageNet val)
    n_reference: int = field(default=0, metadata=ge(0))  # a random subset of them (0: all)


def check_fid(values, prefix: str):
    """fid.variants maps variant -> its dataset ({} = no fid stage); the rest builds the configs."""
    values = as_mapping(values, prefix)
    variants = values.pop("variants", {}) or {}
    if not isinstance(variants, Mapping):
        raise ConfigError(f"{prefix}variants: expected a mapping of variant -> dataset, e.g. {{cifar10_uncond: cifar10}}")
    for name, dataset in variants.items():
        if dataset not in DATASETS:
            raise ConfigError(f"{prefix}variants.{name} = {dataset!r}: unknown dataset (allowed: {', '.join(DATASETS)})")
    cfg, *rest = build_split(values, prefix, FidParams, ScoreConfig, PersistentConfig, LangevinConfig, AccelConfig)
    check_rounds(rest[1], prefix)
    for i, m in enumerate(cfg.models):
        if m not in ("single", "ensemble"):
            raise ConfigError(f"{prefix}models[{i}] = {m!r}: unknown value (allowed: single, ensemble)")
    return (dict(variants), cfg, *rest)


SECTIONS = {"fid": check_fid}
