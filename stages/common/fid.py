"""What the fid stage needs from the outside: its params section and the Inception weights.

The weights (torch-fidelity's port of TF's ``inception-2015-12-05``, 91 MB) come
from ``fid.inception_weights`` when that names a file; otherwise they are
fetched from GitHub into torch's hub cache (once, where the network reaches it);
with neither, the stage stops with one line saying what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from ebm.accel import AccelConfig
from ebm.config import ConfigError, as_mapping, build_split, ge, gt
from ebm.imagemetrics import ScoreConfig
from ebm.sampling import LangevinConfig, PersistentConfig
from stages.common.io import UserError
from stages.common.schema import check_rounds
from stages.common.sections.data import DATASETS

INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
FEATURES = ["2048", "logits_unbiased"]  # pool_3 for FID/KID, the logits the original's IS used


@dataclass(frozen=True)
class FidParams:
    inception_weights: str = ""  # a local copy of INCEPTION_URL's file; "" fetches it
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


def inception_network(weights: str) -> nn.Module:
    """uint8 images [B, 3, H, W] -> (pool_3 features [B, 2048], logits [B, 1008]); raises UserError."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"fid.inception_weights = {weights!r}: no such file; download {INCEPTION_URL} "
                            "and give its path, or set it to '' to fetch it")
        try:  # torch-fidelity unpickles the file freely (weights_only=False): check it holds tensors only first
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise UserError(f"{path}: refused as Inception weights ({type(e).__name__}): not a plain state dict of "
                            f"tensors; expected the file {INCEPTION_URL.rsplit('/', 1)[-1]}") from None
        try:
            return FeatureExtractorInceptionV3("inception-v3-compat", FEATURES, str(path))
        except Exception as e:
            raise UserError(f"{path}: not the Inception weights ({type(e).__name__}); expected the file "
                            f"{INCEPTION_URL.rsplit('/', 1)[-1]}") from None
    try:
        return FeatureExtractorInceptionV3("inception-v3-compat", FEATURES)
    except Exception as e:
        raise UserError(f"Inception weights: fetching {INCEPTION_URL} failed ({type(e).__name__}); no network? "
                        "download the file where there is one and set fid.inception_weights to its path") from None


SECTIONS = {"fid": check_fid}
