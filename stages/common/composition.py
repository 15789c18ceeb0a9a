"""What the composition stages (toy2d, dsprites, factor_judge, train_factor, compose,
crossproduct) share: their params sections, the dSprites arrays, their checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

from ebm.composition.compose import ComposeConfig, Scheme
from ebm.composition.crossproduct import CrossProductConfig
from ebm.composition.dsprites import FACTORS, LABEL_DIMS, DSprites, from_arrays
from ebm.composition.judge import FactorJudge, JudgeConfig, JudgeTolerance
from ebm.config import ConfigError, between, build, build_split, ge, gt
from ebm.models import MLPEnergy
from ebm.sampling import LangevinConfig
from ebm.training import CURVE_KEYS, TrainConfig
from stages.common.fitting import fit_logged
from stages.common.io import UserError
from stages.common.models import model_from_checkpoint
from stages.common.paths import composition_model, dsprites_file

REAL_URL = "https://github.com/deepmind/dsprites-dataset/raw/master/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"


@dataclass(frozen=True)
class DSpritesParams:
    source: Literal["render", "real"] = "render"
    url: str = REAL_URL
    image_size: int = field(default=16, metadata=gt(0))
    n_images: int = field(default=40000, metadata=ge(0))  # 0 = every combination
    test_fraction: float = field(default=0.1, metadata={"gt": 0, "le": 0.9})
    slice_orientation: int = field(default=15, metadata=between(0, 39))  # the original's 30π/39


@dataclass(frozen=True)
class NetParams:
    """The energy MLP of the toy and of each factor, and how often to log."""

    hidden: tuple[int, ...] = (128, 128)
    act: Literal["swish", "relu", "lrelu"] = "swish"
    spectral_norm: bool = False
    log_every: int = field(default=20, metadata=gt(0))


@dataclass(frozen=True)
class Toy2DParams:
    n_points: int = field(default=10000, metadata=gt(0))  # training points per density
    input_scale: float = field(default=8.0, metadata=gt(0))
    n_samples: int = field(default=1000, metadata=gt(0))  # chains for the metric
    sample_steps: int = field(default=100, metadata=gt(0))
    n_traces: int = field(default=12, metadata=ge(0))  # trajectories drawn
    scheme: Scheme = "sum"


@dataclass(frozen=True)
class FactorParams:
    names: tuple[str, ...] = FACTORS
    label_gain: bool = True  # the label also scales each hidden layer (MLPEnergy), not only biases it


def _check_factors(names, key: str) -> None:
    for i, n in enumerate(names):
        if n not in FACTORS:
            raise ConfigError(f"{key}[{i}] = {n!r}: unknown factor (allowed: {', '.join(FACTORS)})")


def _choices(names, allowed, key: str) -> None:
    for i, n in enumerate(names):
        if n not in allowed:
            raise ConfigError(f"{key}[{i}] = {n!r}: unknown value (allowed: {', '.join(allowed)})")


def check_factors(v, p):
    cfg, net, train, langevin = build_split(v, p, FactorParams, NetParams, TrainConfig, LangevinConfig)
    _check_factors(cfg.names, f"{p}names")
    return cfg, net, train, langevin


def check_compose(v, p):
    cfg, tol, langevin = build_split(v, p, ComposeConfig, JudgeTolerance, LangevinConfig)
    for i, combo in enumerate(cfg.combos):
        _check_factors(combo, f"{p}combos[{i}]")
    _choices(cfg.schemes, ("sum", "alternate"), f"{p}schemes")
    return cfg, tol, langevin


def check_cross(v, p):
    cfg, train, langevin = build_split(v, p, CrossProductConfig, TrainConfig, LangevinConfig)
    _choices(cfg.experiments, ("size_position", "shape_position"), f"{p}experiments")
    for i, s in enumerate(cfg.seen):
        if not 0 <= s <= 1:
            raise ConfigError(f"{p}seen[{i}] = {s!r}: must be in [0, 1]")
    return cfg, train, langevin


SECTIONS = {
    "toy2d": lambda v, p: build_split(v, p, Toy2DParams, NetParams, TrainConfig, LangevinConfig),
    "dsprites": lambda v, p: build(DSpritesParams, v, p),
    "factor_judge": lambda v, p: build(JudgeConfig, v, p),
    "factors": check_factors,
    "compose": check_compose,
    "crossproduct": check_cross,
}


# --- data and checkpoints ---

def load_dsprites() -> tuple[DSprites, torch.Tensor]:
    """(the pipeline's dSprites, held-out mask bool [N])."""
    path, fix = dsprites_file(), "dvc repro dsprites"
    if not path.exists():
        raise UserError(f"{path}: missing dSprites arrays; run `{fix}`")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("imgs", "latents_values", "latents_classes", "test")}
        data = from_arrays(arrays, arrays["imgs"].shape[-1])
    except Exception as e:  # a truncated file, a missing array
        raise UserError(f"{path}: corrupt dSprites arrays ({type(e).__name__}: {str(e)[:80]}); run `{fix}`") from None
    return data, torch.from_numpy(arrays["test"])


def factor_energy(d_in: int, factor: str, net: NetParams, label_gain: bool) -> nn.Module:
    return MLPEnergy(d_in, net.hidden, label_dim=LABEL_DIMS[factor], act=net.act, spectral_norm=net.spectral_norm,
                     label_gain=label_gain)


def factor_from_checkpoint(factor: str) -> nn.Module:
    """The trained EBM of one factor, eval mode, weights frozen."""
    path = composition_model(f"factor_{factor}") / "model.pt"
    fix = f"dvc repro train_factor@{factor}"
    model, info = model_from_checkpoint(path, f"{factor} EBM checkpoint", fix, "mlp_energy")
    if info.get("factor") != factor:
        raise UserError(f"{path}: an EBM of {info.get('factor')!r:.40}, not of {factor!r}; run `{fix}`")
    return model.requires_grad_(False)


def judge_from_checkpoint() -> FactorJudge:
    path = composition_model("judge") / "model.pt"
    fix = "dvc repro factor_judge"
    return model_from_checkpoint(path, "factor judge checkpoint", fix, "factor_judge")[0].requires_grad_(False)


def train_loop(trainer, batches, n_iters: int, log_every: int, run, desc: str, metric_prefix: str = "") -> list[dict]:
    """``n_iters`` steps of Algorithm 1 on the batches of an iterator (no guard, no resume state: these EBMs
    train in seconds); the logged rows (step, loss, e_pos, e_neg)."""
    return fit_logged(desc, trainer, lambda step: next(batches), n_iters, run, log_every=log_every, keys=CURVE_KEYS,
                      prefix=metric_prefix).rows


def save_figure(fig, path) -> None:
    """stages.common.figures.save_figure at the composition figures' size (90 dpi, their own layout);
    imported here, not at the top, so that the stages that draw nothing do not load matplotlib."""
    from stages.common.figures import save_figure as save

    save(fig, path, dpi=90, tight_layout=False)
