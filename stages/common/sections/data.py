"""Params sections of the data: ``download``."""

from __future__ import annotations

from dataclasses import dataclass, field

from ebm.config import ConfigError, build, ge

DATASETS = ("digits", "mnist", "cifar10", "imagenet32", "imagenet128")


@dataclass(frozen=True)
class DownloadParams:
    datasets: tuple[str, ...] = ("digits",)
    test_fraction: float = field(default=0.2, metadata={"gt": 0, "le": 0.9})
    # Paper scale, read from where the user keeps them (no download): see docs/paper_scale.md
    imagenet32_path: str = ""  # Chrabaszcz et al.'s pickles: train_data_batch_1..10, val_data
    imagenet128_path: str = ""  # an ImageFolder of JPEGs: <path>/train/<class>/*, <path>/val/<class>/*
    imagenet128_per_class: int = field(default=0, metadata=ge(0))  # images kept per class (0: all, ~63 GB)


def check_download(v, p):
    cfg = build(DownloadParams, v, p)
    for i, name in enumerate(cfg.datasets):
        if name not in DATASETS:
            raise ConfigError(f"{p}datasets[{i}] = {name!r}: unknown dataset (allowed: {', '.join(DATASETS)})")
    return cfg


SECTIONS = {"download": check_download}
