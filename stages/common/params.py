"""params.yaml -> typed configs, validated before any work.

Each top-level section has a validator; every stage validates the whole file
first, so a bad value stops the pipeline at its first stage with one line
naming the key. New sections (new experiments) register in ``SECTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ebm.accel import AccelConfig, DistConfig
from ebm.config import ConfigError, as_mapping, build, build_split, ge, gt
from ebm.continual import build_continual
from ebm.evaluation import ClassifierConfig
from ebm.generalization import CrossClassConfig, OODConfig, RestoreConfig, RobustnessConfig
from ebm.models import NETWORKS
from ebm.sampling import LangevinConfig, PersistentConfig
from ebm.training import GuardConfig, TrainConfig
from stages.common.composition import SECTIONS as COMPOSITION
from stages.common.fid import check_fid
from stages.common.io import UserError
from stages.common.paths import PARAMS
from stages.common.schema import DATASETS, check_rounds
from stages.common.trajectories import SECTIONS as TRAJECTORIES


@dataclass(frozen=True)
class DownloadParams:
    datasets: tuple[str, ...] = ("digits",)
    test_fraction: float = field(default=0.2, metadata={"gt": 0, "le": 0.9})
    # Paper scale, read from where the user keeps them (no download): see docs/paper_scale.md
    imagenet32_path: str = ""  # Chrabaszcz et al.'s pickles: train_data_batch_1..10, val_data
    imagenet128_path: str = ""  # an ImageFolder of JPEGs: <path>/train/<class>/*, <path>/val/<class>/*
    imagenet128_per_class: int = field(default=0, metadata=ge(0))  # images kept per class (0: all, ~63 GB)


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


@dataclass(frozen=True)
class ExperimentParams:  # restore, crossclass, ood, robustness: which model, its data, how many images
    variant: str = "digits_cond"
    dataset: str = "digits"  # the variant's dataset (dvc.yaml needs it to name the data dependency)
    n_images: int = field(default=200, metadata=gt(0))
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when present, else the CPU


def _download(v, p):
    cfg = build(DownloadParams, v, p)
    for i, name in enumerate(cfg.datasets):
        if name not in DATASETS:
            raise ConfigError(f"{p}datasets[{i}] = {name!r}: unknown dataset (allowed: {', '.join(DATASETS)})")
    return cfg


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


SEED_MAX = 2**32 - 1  # numpy's limit; torch takes 64 bits, but seeds are offset and multiplied (batch_at, rank_seed)


def _seed(v, p):
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= SEED_MAX:
        raise ConfigError(f"seed = {v!r:.40}: expected an integer in [0, {SEED_MAX}]")
    return v


def _sample(v, p):
    persist, *rest = build_split(v, p, PersistentConfig, LangevinConfig, AccelConfig)
    check_rounds(persist, p)
    return (persist, *rest)


def _crossclass(v, p):
    exp, cfg, langevin = build_split(v, p, ExperimentParams, CrossClassConfig, LangevinConfig)
    for i, sigma in enumerate(cfg.noise_sweep):  # the builder has checked they are finite numbers
        if sigma < 0:
            raise ConfigError(f"{p}noise_sweep[{i}] = {sigma!r}: must be >= 0")
    return exp, cfg, langevin


SECTIONS: dict[str, Callable[[Any, str], Any]] = {
    "seed": _seed,
    "download": _download,
    "classifier": lambda v, p: build(ClassifierConfig, v, p),
    "train": _train,
    "variants": _variants,
    "sample": _sample,
    "fid": check_fid,  # FID/IS/KID with the Inception network: paper configs only (stages/common/fid.py)
    "evaluate": lambda v, p: build(EvaluateParams, v, p),
    "restore": lambda v, p: build_split(v, p, ExperimentParams, RestoreConfig, LangevinConfig),
    "crossclass": _crossclass,
    "ood": lambda v, p: build_split(v, p, ExperimentParams, OODConfig),
    "robustness": lambda v, p: build_split(v, p, ExperimentParams, RobustnessConfig, LangevinConfig),
    **COMPOSITION,  # toy2d, dsprites, factor_judge, factors, compose, crossproduct
    "continual": build_continual,  # the continual-learning experiment (ebm/continual/config.py)
    **TRAJECTORIES,  # record, trajectory (hand trajectories)
}


def load_params(path: Path = PARAMS) -> dict[str, Any]:
    """All sections of params.yaml, validated; raises UserError with one line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: missing; the pipeline's params file must exist") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        why = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{path}: not valid YAML{where} ({why})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of sections")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise UserError(f"{path}: {unknown[0]}: unknown section (allowed: {', '.join(SECTIONS)})")
    out = {"_raw": raw}
    try:
        for name, check in SECTIONS.items():
            if name == "seed":
                out[name] = check(raw.get(name, 0), f"{name}.")
            else:  # every other section is a mapping; refused here once rather than in each checker
                out[name] = check(as_mapping(raw.get(name), f"{name}."), f"{name}.")
    except ConfigError as e:
        raise UserError(f"{path}: {e}") from None
    return out


def variant(params: dict, name: str) -> VariantParams:
    if name not in params["variants"]:
        raise UserError(f"variants.{name}: unknown variant (defined: {', '.join(params['variants'])})")
    return params["variants"][name]


def flatten(d: Mapping, prefix: str = "") -> dict[str, Any]:
    """{'train': {'lr': 1}} -> {'train.lr': 1}, for MLflow params."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def section_params(params: dict, *sections: str, variant_name: str | None = None) -> dict:
    """The raw params a stage reads (what it declares in dvc.yaml), flattened."""
    raw = params["_raw"]
    picked = {s: raw[s] for s in sections if s in raw}
    if variant_name is not None:
        picked["variants"] = {variant_name: raw["variants"][variant_name]}
    return flatten(picked)
