"""Algorithm 1 of the paper: contrastive training with Langevin negatives.

One iteration:
  1. one spectral-norm power iteration (W/sigma is then fixed for the rest of it);
  2. chains start from the replay buffer (95%) or uniform noise (5%);
  3. K Langevin steps on the current energy, parameters frozen;
  4. loss = E(x+) - E(x-) + alpha (E(x+)^2 + E(x-)^2), one forward over both;
  5. a step of the clipped Adam; the chains' end states go back to the buffer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from ebm.config import between, ge, gt
from ebm.models.spectral import power_iteration
from ebm.sampling.langevin import LangevinConfig, langevin
from ebm.sampling.replay import ReplayBuffer, init_chains
from ebm.training.loss import contrastive_loss
from ebm.training.optim import ClippedAdam


@dataclass(frozen=True)
class TrainConfig:
    n_iters: int = field(default=1000, metadata=gt(0))
    batch_size: int = field(default=128, metadata=gt(0))
    lr: float = field(default=3e-4, metadata=gt(0))
    beta1: float = field(default=0.0, metadata=between(0, 1))
    beta2: float = field(default=0.999, metadata=between(0, 1))
    l2_coeff: float = field(default=1.0, metadata=ge(0))
    replay_size: int = field(default=10000, metadata=ge(0))
    replay_prob: float = field(default=0.95, metadata=between(0, 1))
    history_every: int = field(default=300, metadata=gt(0))  # checkpoint spacing for ensembles
    history_size: int = field(default=10, metadata=gt(0))  # K checkpoints kept
    # From this fraction of n_iters on, the learning rate falls linearly towards 0 at the last
    # iteration (1.0: constant, as the original). EBM training oscillates; a short run's last iterate
    # is otherwise wherever the oscillation happens to be.
    lr_anneal_from: float = field(default=1.0, metadata=between(0, 1))
    # The anneal stops at this fraction of the learning rate (0: down to ~0 at the last iteration).
    # Above 0 the late checkpoints keep moving, so a historical ensemble of them has an oscillation to
    # average over (docs/generation.md measures both).
    lr_floor: float = field(default=0.0, metadata=between(0, 1))
    # The iterations from lr_anneal_from on split into this many equal cycles, each restarting at the
    # full lr and annealing towards 0 (snapshot ensembles, Huang et al. 2017). 1: one anneal. With
    # history_every = the cycle's length, the historical ensemble holds the cycles' low-lr ends, each
    # as settled as the final model, rather than the final model's noisier high-lr neighbours
    # (docs/generation.md).
    lr_cycles: int = field(default=1, metadata=gt(0))
    # Weight of a label contrast for conditional models: each positive image is also scored under
    # another image's label, and softplus(E(x, y) - E(x, y')) asks its own label to be the lower
    # (the pairwise form of the label loss in Li, Du, van de Ven & Mordatch 2020). Langevin
    # negatives alone teach the label's effect slowly: they differ from the data in the label only
    # as much as the model already uses it. 0: off (the original). The temperature puts the
    # contrast on the energies' own scale: the L2 penalty keeps them near +-0.5, where
    # softplus(E - E') at temperature 1 cannot tell a right label from a wrong one.
    label_contrast: float = field(default=0.0, metadata=ge(0))
    label_temperature: float = field(default=0.05, metadata=gt(0))

    def lr_scale(self, step: int) -> float:
        """The learning-rate factor of iteration ``step`` (1-based)."""
        start = int(self.lr_anneal_from * self.n_iters)
        if step <= start:
            return 1.0
        cycle = (self.n_iters - start) / self.lr_cycles  # iterations per cycle
        pos = (step - start - 1) % cycle + 1 if self.lr_cycles > 1 else step - start  # 1..cycle within it
        return max(self.lr_floor, (cycle - pos + 1) / (cycle + 1))


def random_batches(x: torch.Tensor, y: torch.Tensor | None, batch_size: int, generator=None) -> Iterator:
    """Endless random batches (with reshuffling each epoch)."""
    n = x.shape[0]
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = perm[i : i + batch_size]
            yield x[idx], (y[idx] if y is not None else None)


def batch_at(x: torch.Tensor, y: torch.Tensor | None, batch_size: int, step: int, seed: int):
    """The batch of iteration ``step`` (0-based): a fixed function of (seed, step).

    Stateless, so a resumed run sees exactly the batches the killed one would have.
    """
    per_epoch = x.shape[0] // batch_size
    epoch, pos = divmod(step, per_epoch)
    idx = epoch_order(x.shape[0], seed, epoch)[pos * batch_size : (pos + 1) * batch_size]
    return x[idx], (y[idx] if y is not None else None)


@functools.lru_cache(maxsize=4)
def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of ``epoch``: drawn once per epoch, not once per batch (a permutation of a few
    hundred thousand pairs costs more than a trajectory EBM's training step)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


class Trainer:
    """Holds the model, optimiser and replay buffer; ``step`` is one iteration."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, langevin_cfg: LangevinConfig,
                 init: Callable[[int], torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
                 generator: torch.Generator | None = None,
                 quantize_buffer: bool = True,  # False: keep float chains (2-D points, not images)
                 chain_model: nn.Module | None = None):  # what the chains call (default: model), e.g. the
        # bare module under DDP (no gradient sync in the chain) or a torch.compile'd one (ebm.accel)
        self.model, self.cfg, self.langevin_cfg, self.init = model, cfg, langevin_cfg, init
        self.chain_model = model if chain_model is None else chain_model
        self.generator = generator
        self.opt = ClippedAdam(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.buffer = ReplayBuffer(cfg.replay_size, quantize_buffer) if cfg.replay_size > 0 else None
        self.last_negatives: torch.Tensor | None = None

    def step(self, x_pos: torch.Tensor, y_pos: torch.Tensor | None, lr_scale: float = 1.0) -> dict:
        model = self.model
        model.train()
        power_iteration(model)
        # init(n): the fresh chains' starts, or (starts, mask): which coordinates of each chain move (a
        # window EBM whose chains start at a real window move its newest step only, as its rollouts do)
        x0, y_neg = self.init(x_pos.shape[0]), y_pos
        x0, mask = x0 if isinstance(x0, tuple) else (x0, None)
        if self.buffer is not None:  # a chain taken from the buffer moves as the fresh one in its place would
            x0, y_neg = init_chains(self.buffer, x0, y_pos, self.cfg.replay_prob, self.generator)
        chain = self.chain_model
        x_neg = langevin(lambda x: chain(x, y_neg), x0, self.langevin_cfg, models=(chain,), mask=mask,
                         generator=self.generator)
        contrast = self.cfg.label_contrast > 0 and y_pos is not None
        xs, ys = [x_pos, x_neg], ([y_pos, y_neg] if y_pos is not None else None)
        if contrast:  # the batch's labels shifted by one: another image's label for each image
            xs.append(x_pos)
            ys.append(y_pos.roll(1, 0))
        energies = model(torch.cat(xs), torch.cat(ys) if ys is not None else None)
        e_pos, e_neg, *e_wrong = energies.split(x_pos.shape[0])
        loss, stats = contrastive_loss(e_pos, e_neg, self.cfg.l2_coeff)
        if contrast:
            label_loss = torch.nn.functional.softplus((e_pos - e_wrong[0]) / self.cfg.label_temperature).mean()
            loss = loss + self.cfg.label_contrast * label_loss
            stats["loss_label"] = label_loss.item()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step(lr_scale=lr_scale)
        if self.buffer is not None:
            self.buffer.add(x_neg, y_neg)
        self.last_negatives = x_neg
        return stats

    def state_dict(self) -> dict:
        """Everything a resumed run needs: weights, optimiser, buffer, RNG states."""
        return {
            "model": self.model.state_dict(), "opt": self.opt.state_dict(),
            "buffer": self.buffer.state_dict() if self.buffer is not None else None,
            "torch_rng": torch.get_rng_state(),
            "generator": self.generator.get_state() if self.generator is not None else None,
            "last_negatives": self.last_negatives,  # the stage's final grid, also after resuming at the end
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        if self.buffer is not None and state["buffer"] is not None:
            self.buffer.load_state_dict(state["buffer"])
        torch.set_rng_state(state["torch_rng"])
        self.last_negatives = state.get("last_negatives")
        if self.generator is not None and state["generator"] is not None:
            self.generator.set_state(state["generator"])

    @property
    def lr(self) -> float:
        return self.opt.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = value
