"""Typed configs of the continual-learning experiment, one per method.

``build_continual`` turns the ``continual`` params section (shared keys at the
top, one sub-mapping per method) into a ``ContinualSettings``; errors name the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ebm.config import ConfigError, build, ge, gt

METHOD_NAMES = ("finetune", "ewc", "si", "mas", "lwf", "vae", "ebm")


@dataclass(frozen=True)
class ContinualConfig:
    """The protocol and the discriminative baselines' shared training schedule."""
    dataset: Literal["digits", "mnist"] = "digits"  # mnist: split MNIST, the paper scale
    classes_per_task: int = field(default=2, metadata=gt(0))
    n_seeds: int = field(default=3, metadata=gt(0))
    methods: tuple[str, ...] = METHOD_NAMES
    epochs: int = field(default=30, metadata=gt(0))  # passes over each task's data
    batch_size: int = field(default=128, metadata=gt(0))
    lr: float = field(default=1e-3, metadata=gt(0))  # Adam
    hidden: tuple[int, ...] = (400, 400)  # the MLP every method uses
    joint: bool = True  # also the ceilings ebm_joint and mlp_joint: all classes as one task


@dataclass(frozen=True)
class EWCConfig:  # Kirkpatrick et al. 2017: one Fisher-weighted anchor per past task
    strength: float = field(default=1000.0, metadata=ge(0))
    n_samples: int = field(default=200, metadata=gt(0))  # images per Fisher estimate


@dataclass(frozen=True)
class SIConfig:  # Zenke et al. 2017: path-integral importance, one cumulative anchor
    strength: float = field(default=1.0, metadata=ge(0))  # c
    damping: float = field(default=0.1, metadata=gt(0))  # xi


@dataclass(frozen=True)
class MASConfig:  # Aljundi et al. 2018: output-sensitivity importance, one cumulative anchor
    strength: float = field(default=1.0, metadata=ge(0))
    n_samples: int = field(default=200, metadata=gt(0))


@dataclass(frozen=True)
class LwFConfig:  # Li & Hoiem 2016: distil the previous model's outputs on the new data
    strength: float = field(default=1.0, metadata=ge(0))
    temperature: float = field(default=2.0, metadata=gt(0))


@dataclass(frozen=True)
class VAEConfig:
    """Conditional VAE classifier (max ELBO over labels) that replays its own old classes."""
    latent: int = field(default=32, metadata=gt(0))
    epochs: int = field(default=30, metadata=gt(0))
    lr: float = field(default=1e-3, metadata=gt(0))
    replay: bool = True  # generative replay of the classes of earlier tasks


@dataclass(frozen=True)
class EBMConfig:
    """Label-gated MLP energy, label contrast + image contrast over the current task (ebm/continual/energy.py)."""
    epochs: int = field(default=10, metadata=gt(0))
    batch_size: int = field(default=64, metadata=gt(0))
    lr: float = field(default=1e-3, metadata=gt(0))  # Adam
    image_weight: float = field(default=1.0, metadata=ge(0))  # weight of the image contrast (NCE of p(x | y) against noise)
    n_noise: int = field(default=64, metadata=ge(0))  # U(0, 1) images per batch, negatives of the image contrast
    gate_layers: int = field(default=1, metadata=gt(0))  # hidden layers the label embedding gates


SUBSECTIONS = {"ewc": EWCConfig, "si": SIConfig, "mas": MASConfig, "lwf": LwFConfig, "vae": VAEConfig, "ebm": EBMConfig}


@dataclass(frozen=True)
class ContinualSettings:
    common: ContinualConfig
    ewc: EWCConfig
    si: SIConfig
    mas: MASConfig
    lwf: LwFConfig
    vae: VAEConfig
    ebm: EBMConfig


def build_continual(values: Mapping[str, Any] | None, prefix: str = "continual.") -> ContinualSettings:
    values = dict(values or {})
    top = {k: v for k, v in values.items() if k not in SUBSECTIONS}
    allowed = {f.name for f in fields(ContinualConfig)} | set(SUBSECTIONS)
    unknown = sorted(set(top) - allowed)
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")
    common = build(ContinualConfig, top, prefix)
    for i, name in enumerate(common.methods):
        if name not in METHOD_NAMES:
            raise ConfigError(f"{prefix}methods[{i}] = {name!r}: unknown method (allowed: {', '.join(METHOD_NAMES)})")
    if len(set(common.methods)) != len(common.methods):
        raise ConfigError(f"{prefix}methods: a method is listed twice")
    for i, h in enumerate(common.hidden):
        if h <= 0:
            raise ConfigError(f"{prefix}hidden[{i}] = {h}: must be > 0")
    subs = {k: build(cls, values.get(k), f"{prefix}{k}.") for k, cls in SUBSECTIONS.items()}
    return ContinualSettings(common=common, **subs)
