"""The EBM learner: a label-specific energy E(x, y), trained with two contrasts of the current task only.

Classification is the paper's rule: the lowest E(x, y) over all 10 labels, with
no per-label calibration. The model (``gated.py``) is a 400-400 MLP whose first
hidden layer a learned label embedding gates (Li et al. 2020). Each minibatch of
task t (images x with labels y, all of task t's classes) gives the energies
E[i, c] = E(x_i, c) for every image of the batch, ``n_noise`` U(0, 1) images, and
every label c of task t (the current task's labels only). The loss is

* label contrast (rows): -log softmax_c(-E[i, c]) at c = y_i, over task t's
  labels: the image under its own label against the same image under the other
  labels of the task (Li et al.'s loss, all the task's labels at once);
* image contrast (columns), ``image_weight`` times: under each of the task's
  labels c, a logistic (NCE) loss that puts E(x, c) below 0 on the images of c
  and above 0 on the batch's images of the task's other labels and on the noise
  (the two kinds of negative weighted equally). This is the generative half,
  Algorithm 1's "data down, negatives up" with the batch and noise as negatives.
  Being binary, not a softmax over images, it fixes each label's energy level in
  absolute terms: E(x, c) estimates -log p(x | c) / q(x) against one fixed noise
  distribution q, so energies of labels trained in different tasks are on one
  scale and the lowest-energy rule can compare them. A softmax over images is
  blind to a constant added to one label's energies, which left every task's
  labels at an arbitrary level (docs/continual.md: 61 +- 15 % against 68 +- 5 %).

Old labels appear in no loss term: they change only through the shared weights.
Between tasks the learner keeps its weights and nothing else (no images, no
samples, no statistics); ``observe`` refuses a label outside the current task.
Langevin negatives (Algorithm 1) were measured and dropped: see docs/continual.md.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ebm.continual.base import METHODS, Method
from ebm.continual.config import ContinualConfig, ContinualSettings, EBMConfig
from ebm.continual.gated import GatedEnergy


class EnergyClassifier(Method):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, ebm: EBMConfig):
        self.n_classes, self.d_in, self.cfg = n_classes, d_in, ebm
        self.model = GatedEnergy(d_in, cfg.hidden, n_classes, ebm.gate_layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=ebm.lr)
        self.epochs, self.batch_size = ebm.epochs, ebm.batch_size
        self.classes = torch.zeros(0, dtype=torch.long)  # the current task's labels

    def begin_task(self, task, classes, seen):
        self.classes = torch.tensor(classes, dtype=torch.long)

    def observe(self, x, y):
        if not torch.isin(y, self.classes).all():
            bad = sorted(set(y.tolist()) - set(self.classes.tolist()))
            raise ValueError(f"EBM handed labels {bad} outside the current task {self.classes.tolist()}: "
                             "it must see no data of a finished task")
        self.model.train()
        n = len(x)
        xs = torch.cat([x, torch.rand(self.cfg.n_noise, x.shape[1])]) if self.cfg.n_noise else x
        labels = self.classes[None].expand(len(xs), -1)  # [n + noise, C]: the current task's labels only
        e = self.model(xs, labels)
        own = labels[:n] == y[:, None]  # [n, C] the positive's column
        label_loss = F.cross_entropy(-e[:n], own.float().argmax(1))
        image_loss = self.image_contrast(e[:n], own, e[n:])
        loss = label_loss + self.cfg.image_weight * image_loss
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.item(), "label_loss": label_loss.item(), "image_loss": image_loss.item()}

    @staticmethod
    def image_contrast(e_batch: torch.Tensor, own: torch.Tensor, e_noise: torch.Tensor) -> torch.Tensor:
        """Binary NCE per label: positives (own) below 0; the task's other images and the noise above 0."""
        loss = F.softplus(e_batch[own]).mean()  # softplus(E) = -log sigmoid(-E): data down
        negatives = [e_batch[~own], e_noise.flatten()]
        negatives = [n for n in negatives if n.numel()]
        return loss + sum(F.softplus(-n).mean() for n in negatives) / max(len(negatives), 1)  # negatives up

    @torch.no_grad()
    def energies(self, x: torch.Tensor) -> torch.Tensor:
        """E(x, y) for every label y: [B, n_classes]."""
        self.model.eval()
        return self.model(x, torch.arange(self.n_classes)[None].expand(len(x), -1))

    def scores(self, x):
        return -self.energies(x)  # the paper's rule: lowest energy over all labels wins


@METHODS.register("ebm")
def _ebm(d_in: int, n_classes: int, s: ContinualSettings) -> EnergyClassifier:
    return EnergyClassifier(d_in, n_classes, s.common, s.ebm)
