"""What the composition stages (toy2d, dsprites, factor_judge, train_factor, compose,
crossproduct) share: the dSprites arrays, their checkpoints, the fit loop and figure saving (their params
sections: stages/common/sections/composition.py)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ebm.composition.dsprites import LABEL_DIMS, DSprites, from_arrays
from ebm.composition.judge import FactorJudge
from ebm.models import MLPEnergy
from ebm.training import CURVE_KEYS
from stages.common.fitting import fit_logged
from stages.common.io import UserError
from stages.common.models import model_from_checkpoint
from stages.common.paths import composition_model, dsprites_file
from stages.common.sections.composition import NetParams

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
