"""Training the FC and LSTM baselines: plain MSE on the next standardised step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ebm.config import gt
from ebm.trajectories.models import FCPredictor, LSTMPredictor


@dataclass(frozen=True)
class RegressionConfig:
    n_iters: int = field(default=2000, metadata=gt(0))
    batch_size: int = field(default=128, metadata=gt(0))  # pairs (FC) or whole trajectories (LSTM)
    lr: float = field(default=1e-3, metadata=gt(0))


Log = Callable[[int, float], None]  # (step, loss)


def _fit(model, loss_fn: Callable[[torch.Tensor], torch.Tensor], n: int, cfg: RegressionConfig,
         generator: torch.Generator, log: Log) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    model.train()
    for step in range(1, cfg.n_iters + 1):
        idx = torch.randint(0, n, (min(cfg.batch_size, n),), generator=generator)
        loss = loss_fn(idx)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        log(step, loss.item())
    model.eval()


def train_fc(model: FCPredictor, context: torch.Tensor, step: torch.Tensor, cfg: RegressionConfig,
             generator: torch.Generator, log: Log = lambda s, v: None) -> None:
    """context [M, k*D] -> step [M, D]."""
    _fit(model, lambda i: ((model(context[i]) - step[i]) ** 2).mean(), len(context), cfg, generator, log)


def train_lstm(model: LSTMPredictor, z: torch.Tensor, steps: torch.Tensor, cfg: RegressionConfig,
               generator: torch.Generator, log: Log = lambda s, v: None) -> None:
    """Teacher forcing on whole trajectories: states z [N, T, D] -> the step after each, steps [N, T, D]."""
    _fit(model, lambda i: ((model(z[i])[0] - steps[i]) ** 2).mean(), len(z), cfg, generator, log)
