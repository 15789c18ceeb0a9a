"""The EBM learner: a conditional energy E(x, y) trained with Algorithm 1, classifying by lowest energy.

Which labels the Langevin negatives carry (measured on the digits; see README):

* Every negative carries the label of the positive it is paired with, so each
  batch pushes down and up exactly the same labels, all of the current task.
  Negatives of an earlier task's labels would push those classes up with no
  data left to hold them down. And when a replayed chain kept its own stored
  label (``ReplayBuffer`` keeps labels), positives and negatives of a batch had
  different label counts; the per-label energy offsets then random-walked and
  one label won every test image (10% accuracy even trained on all classes at
  once, 86% with the label-free buffer below).
* The replay buffer therefore stores chain states only (as the original code
  does): a replayed chain continues under its new positive's label.

Classification: ``raw`` is the paper's rule, the lowest E(x, y) over labels.
It assumes every label's partition function is the same; training new classes
moves the shared weights and with them the old labels' energy level (within a
task's pair the ranking survives far better than across tasks). ``calibrated``
subtracts from E(x, y) the mean energy of the model's own Langevin samples under
y, an estimate of that label's level that needs no stored data.
"""

from __future__ import annotations

import torch

from ebm.continual.base import Method
from ebm.continual.config import ContinualConfig, EBMConfig
from ebm.data import uniform_like
from ebm.models import MLPEnergy
from ebm.sampling import LangevinConfig, ReplayBuffer, langevin
from ebm.training import TrainConfig, Trainer


class ImagesOnlyBuffer(ReplayBuffer):
    """A replay buffer that drops labels: replayed chains take their positive's label."""

    def add(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        super().add(x, None)


class EnergyClassifier(Method):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, ebm: EBMConfig):
        self.n_classes, self.d_in, self.cfg = n_classes, d_in, ebm
        self.model = MLPEnergy(d_in, cfg.hidden, label_dim=n_classes)
        train_cfg = TrainConfig(batch_size=ebm.batch_size, lr=ebm.lr, beta1=ebm.beta1, l2_coeff=ebm.l2_coeff,
                                replay_size=ebm.replay_size, replay_prob=ebm.replay_prob)
        langevin_cfg = LangevinConfig(n_steps=ebm.n_steps, step_size=ebm.step_size, noise_std=ebm.noise_std,
                                      grad_clip=ebm.grad_clip, clamp=True)  # pixels stay in [0, 1]
        self.trainer = Trainer(self.model, train_cfg, langevin_cfg, uniform_like((d_in,)))
        self.trainer.buffer = ImagesOnlyBuffer(ebm.replay_size) if ebm.replay_size > 0 else None
        self.epochs, self.batch_size = ebm.epochs, ebm.batch_size
        self.levels = torch.zeros(n_classes)  # per-label energy level, set at each task's end

    def observe(self, x, y):
        return self.trainer.step(x, y)  # positives (x, y); negatives by Langevin under the same labels

    def end_task(self, x, y):
        self.levels = self.sample_levels()

    def sample_levels(self) -> torch.Tensor:
        """[n_classes] mean energy of ``calib_chains`` Langevin samples (from noise) under each label."""
        n = self.cfg.calib_chains
        labels = torch.arange(self.n_classes).repeat_interleave(n)  # [n_classes * n]
        self.model.eval()
        x = langevin(lambda z: self.model(z, labels), torch.rand(len(labels), self.d_in),
                     self.trainer.langevin_cfg, models=(self.model,), n_steps=self.cfg.calib_steps)
        with torch.no_grad():
            return self.model(x, labels).view(self.n_classes, n).mean(1)

    @torch.no_grad()
    def energies(self, x: torch.Tensor) -> torch.Tensor:
        """E(x, y) for every label y: [B, n_classes]."""
        self.model.eval()
        k = self.n_classes
        return self.model(x.repeat_interleave(k, 0), torch.arange(k).repeat(len(x))).view(len(x), k)

    def scores(self, x):
        return -self.energies(x)  # the paper's rule: lowest energy wins

    def scorers(self):
        return {"": self.scores, "calibrated": lambda x: -(self.energies(x) - self.levels)}
