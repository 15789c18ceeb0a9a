"""Conditional VAE classifier with generative replay of its own earlier classes.

p(x|y) by a conditional VAE (encoder and decoder: the shared 400-400 MLP),
classification by the largest ELBO over labels (Bayes with a uniform prior),
the generative counterpart of the EBM's lowest energy. While learning task t,
each batch is mixed with images the frozen previous model generates for the
earlier classes, weighted 1/t new and (t-1)/t replayed (van de Ven et al. 2020).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ebm.continual.base import METHODS, Method, mlp
from ebm.continual.config import ContinualConfig, ContinualSettings, VAEConfig


class ConditionalVAE(nn.Module):
    def __init__(self, d_in: int, n_classes: int, hidden: tuple[int, ...], latent: int):
        super().__init__()
        self.n_classes, self.latent = n_classes, latent
        self.enc = mlp(d_in + n_classes, hidden, 2 * latent)
        self.dec = mlp(latent + n_classes, hidden, d_in)

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # -> pixel logits [B, D]
        return self.dec(torch.cat([z, F.one_hot(y, self.n_classes).float()], 1))

    def neg_elbo(self, x: torch.Tensor, y: torch.Tensor, sample: bool = True) -> torch.Tensor:
        """-ELBO per sample [B]: Bernoulli reconstruction (continuous targets) + KL to N(0, I)."""
        mu, logvar = self.enc(torch.cat([x, F.one_hot(y, self.n_classes).float()], 1)).chunk(2, 1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu) if sample else mu
        rec = F.binary_cross_entropy_with_logits(self.decode(z, y), x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return rec + kl

    @torch.no_grad()
    def generate(self, y: torch.Tensor) -> torch.Tensor:  # [B, D] mean images of the asked labels
        return torch.sigmoid(self.decode(torch.randn(len(y), self.latent), y))


class VAEReplay(Method):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, vae: VAEConfig):
        self.model = ConditionalVAE(d_in, n_classes, cfg.hidden, vae.latent)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=vae.lr)
        self.cfg, self.epochs, self.batch_size = vae, vae.epochs, cfg.batch_size
        self.teacher, self.old, self.n_tasks = None, (), 0

    def begin_task(self, task, classes, seen):
        self.n_tasks = task + 1
        self.old = torch.tensor([c for c in seen if c not in classes])
        if self.cfg.replay and task > 0:
            self.teacher = copy.deepcopy(self.model).eval()

    def replay_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n images the previous model generates for labels drawn uniformly from the earlier tasks."""
        y = self.old[torch.randint(len(self.old), (n,))]
        return self.teacher.generate(y), y

    def observe(self, x, y):
        self.model.train()
        loss = self.model.neg_elbo(x, y).mean()
        stats = {"loss": loss.item()}
        if self.teacher is not None:
            xr, yr = self.replay_batch(len(x))
            replay = self.model.neg_elbo(xr, yr).mean()
            loss = loss / self.n_tasks + replay * (1 - 1 / self.n_tasks)
            stats["replay_loss"] = replay.item()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return stats

    @torch.no_grad()
    def scores(self, x):
        """ELBO(x, y) for every label y: [B, n_classes] (the posterior mean, so deterministic)."""
        self.model.eval()
        k = self.model.n_classes
        xs, ys = x.repeat_interleave(k, 0), torch.arange(k).repeat(len(x))
        return -self.model.neg_elbo(xs, ys, sample=False).view(len(x), k)


@METHODS.register("vae")
def _vae(d_in: int, n_classes: int, s: ContinualSettings) -> VAEReplay:
    return VAEReplay(d_in, n_classes, s.common, s.vae)
