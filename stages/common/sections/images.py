"""Params sections of the image EBMs: ``device``, ``classifier``, ``train``, ``variants``, ``sample``,
``evaluate``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from ebm.accel import AccelConfig, DistConfig
from ebm.config import ConfigError, as_mapping, build, build_split, gt, pick
from ebm.evaluation import ClassifierConfig
from ebm.models import NETWORKS
from ebm.sampling import LangevinConfig, PersistentConfig
from ebm.training import GuardConfig, TrainConfig
from stages.common.schema import check_rounds
from stages.common.sections.data import DATASETS


DEVICE_KEYS = (*(f.name for f in fields(AccelConfig)), "backend")


def _device(v, p):
    """Where and how the torch stages run, written once: the sections that leave these keys out read them
    here (``stages.common.params.SHARED``); (AccelConfig, the DDP backend)."""
    v = as_mapping(v, p)
    unknown = sorted(str(k) for k in v if k not in DEVICE_KEYS)
    if unknown:
        raise ConfigError(f"{p}{unknown[0]}: unknown key (allowed: {', '.join(sorted(DEVICE_KEYS))})")
    backend = build(DistConfig, {"nproc": 1, **pick(v, DistConfig)}, p).backend  # nproc is train's own
    return build(AccelConfig, pick(v, AccelConfig), p), backend


@dataclass(frozen=True)
class TrainLoopParams:
    log_every: int = field(default=10, metadata=gt(0))
    resume_every: int = field(default=100, metadata=gt(0))  # resume state written this often


@dataclass(frozen=True)
class VariantParams:
    dataset: str = "digits"
    network: str = "digits_resnet"
    conditional: bool = False


@dataclass(frozen=True)
class EvaluateParams:
    n_reference: int = field(default=500, metadata=gt(1))  # train images for the FD floor


def _variants(v, p):
    if not isinstance(v, Mapping) or not v:
        raise ConfigError(f"{p.rstrip('.')}: expected a mapping of variant name -> settings")
    out = {}
    for name, spec in v.items():
        cfg = build(VariantParams, spec, f"{p}{name}.")
        if cfg.network not in NETWORKS:
            raise ConfigError(f"{p}{name}.network = {cfg.network!r}: unknown network (allowed: {', '.join(NETWORKS)})")
        if cfg.dataset not in DATASETS:
            raise ConfigError(f"{p}{name}.dataset = {cfg.dataset!r}: unknown dataset (allowed: {', '.join(DATASETS)})")
        out[name] = cfg
    return out


def _train(v, p):
    return build_split(v, p, TrainConfig, LangevinConfig, GuardConfig, TrainLoopParams, AccelConfig, DistConfig)


def _sample(v, p):
    persist, *rest = build_split(v, p, PersistentConfig, LangevinConfig, AccelConfig)
    check_rounds(persist, p)
    return (persist, *rest)


SECTIONS = {
    "device": _device,
    "classifier": lambda v, p: build(ClassifierConfig, v, p),
    "train": _train,
    "variants": _variants,
    "sample": _sample,
    "evaluate": lambda v, p: build(EvaluateParams, v, p),
}
