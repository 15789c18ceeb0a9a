"""The paper's Figure 13 protocol: roll every model out from held-out starts and score it by horizon.

Two settings, each scored at every horizon on the state and on the motion since
the start (``metrics``):
* conditional: every model continues the held-out trajectories from their own
  first k states (starts every ``start_every`` steps);
* unconditional: no held-out information: the window EBM generates its first
  window from noise, the other models start from training-set starts.
Reference rows: ``static`` (the hand frozen at its start: the collapse the paper
reports for FC) and ``data`` (real training trajectories scored the same way:
the floor of the finite-sample distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ebm.sampling import LangevinConfig
from ebm.trajectories.data import Coder
from ebm.trajectories.eval_config import EvalConfig
from ebm.trajectories.metrics import horizon_fd, motion_scale, segments
from ebm.trajectories.rollout import (ChainConfig, ebm_step, fc_step, rollout_lstm, rollout_steps, rollout_window,
                                      sample_windows)

SETTINGS, FEATURES = ("conditional", "unconditional"), ("state", "motion")


@dataclass(frozen=True)
class TrainedModel:
    """One trained trajectory model as its checkpoint gives it back."""
    name: str  # ebm_cond | ebm_uncond | fc | lstm
    module: nn.Module
    coder: Coder
    langevin: LangevinConfig | None = None  # the EBMs sample as they were trained
    chain: ChainConfig = ChainConfig()
    memory: tuple[int, int] = (0, 0)  # the conditional EBM's memory: (frames, reach), models.NetConfig


@dataclass
class Evaluation:
    table: dict  # setting -> feature -> model (and "static", "data") -> {"h<h>": Fréchet distance}
    rollouts: dict  # model -> {"<setting>_start": [B, k, D], "<setting>": [B, H, D]} (raw state units)
    real: torch.Tensor  # [M, H, D] the held-out continuations
    test_trajectory: torch.Tensor  # [M] which held-out trajectory each conditional start is ...
    test_offset: torch.Tensor  # [M] ... and its first step
    shown: dict  # "real" and each model -> [M, H+1, D]: the conditional rollouts after the last start state


def rollout(m: TrainedModel, start: torch.Tensor, horizon: int, window_steps: int, gen: torch.Generator,
            from_noise: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(generated states [B, H, D], the start's last state [B, D]) of one model."""
    if m.name == "fc":
        return rollout_steps(fc_step(m.module), m.coder, start, horizon), start[:, -1]
    if m.name == "lstm":
        return rollout_lstm(m.module, m.coder, start, horizon), start[:, -1]
    if m.name == "ebm_cond":
        step = ebm_step(m.module, m.langevin, m.coder, m.chain, gen)
        return rollout_steps(step, m.coder, start, horizon, *m.memory), start[:, -1]
    if from_noise:  # the window EBM's own first window, its last k states the start
        w = start.shape[1] + 1
        start = sample_windows(m.module, m.coder, start.shape[0], w, m.langevin, window_steps, gen)[:, 1:]
    return rollout_window(m.module, m.coder, start, horizon, m.langevin, m.chain, gen), start[:, -1]


def run(models: list[TrainedModel], train: torch.Tensor, test: torch.Tensor, k: int, cfg: EvalConfig,
        gen: torch.Generator) -> Evaluation:
    """Every model rolled out in both settings and scored against the held-out futures.
    train, test: trajectories [N, T+1, D] (raw state units); k: the context length."""
    horizon = max(cfg.horizons)
    coder = Coder.fit(train)  # the scale every model is scored in
    start, real = segments(test, k, horizon, cfg.start_every)  # [M, k, D], [M, H, D], offset-major
    offsets = torch.arange(0, test.shape[1] - k - horizon + 1, cfg.start_every)
    test_trajectory, test_offset = torch.arange(len(test)).repeat(len(offsets)), offsets.repeat_interleave(len(test))
    train_start, train_future = segments(train, k, horizon, cfg.start_every)
    scale = motion_scale(train_start[:, -1], train_future)
    pick = torch.randperm(len(train_start), generator=gen)[: len(start)]  # unconditional starts, and the data row
    starts = {"conditional": start, "unconditional": train_start[pick]}

    def score(g, last):
        return horizon_fd(g, last, real, start[:, -1], cfg.horizons, coder, scale)

    table = {s: {f: {} for f in FEATURES} for s in SETTINGS}
    shown, rollouts = {"real": torch.cat([start[:, -1:], real], 1)}, {}
    for m in models:
        reps = cfg.samples if m.name.startswith("ebm") else 1  # the baselines are deterministic
        for setting in SETTINGS:
            s = starts[setting].repeat(reps, 1, 1)
            g, last = rollout(m, s, horizon, cfg.window_steps, gen, from_noise=setting == "unconditional")
            fds = score(g, last)
            rollouts.setdefault(m.name, {}).update({f"{setting}_start": s, setting: g})
            for f in FEATURES:
                table[setting][f][m.name] = fds[f]
            if setting == "conditional":
                shown[m.name] = torch.cat([last[:, None], g], 1)
    for setting in SETTINGS:
        last = starts[setting][:, -1]
        ref = {"static": score(last[:, None].expand(-1, horizon, -1), last),
               "data": score(train_future[pick], train_start[pick][:, -1])}
        for f in FEATURES:
            for name, fds in ref.items():
                table[setting][f][name] = fds[f]
    return Evaluation(table, rollouts, real, test_trajectory, test_offset, shown)
