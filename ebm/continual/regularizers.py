"""EWC, SI and MAS: quadratic pulls towards anchor weights, weighted by an importance.

penalty = strength * sum_anchors sum_i importance_i (theta_i - anchor_i)^2, zero
at the anchor. They differ in how the importance is measured:
  EWC  diagonal Fisher of log p(y|x), y drawn from the model; one anchor per past task
  SI   path integral of -grad * step over the task, / (total change^2 + xi); one cumulative anchor
  MAS  mean |d ||f(x)||^2 / d theta| (output sensitivity, no labels); one cumulative anchor
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from ebm.continual.base import METHODS
from ebm.continual.config import ContinualConfig, ContinualSettings, EWCConfig, MASConfig, SIConfig
from ebm.continual.finetune import FineTune

Params = dict[str, torch.Tensor]


def snapshot(net: nn.Module) -> Params:
    return {k: p.detach().clone() for k, p in net.named_parameters()}


def quadratic_penalty(net: nn.Module, anchors: list[tuple[Params, Params]]) -> torch.Tensor:
    """sum over (importance, anchor) pairs of sum importance * (theta - anchor)^2."""
    total = torch.zeros(())
    for importance, anchor in anchors:
        for k, p in net.named_parameters():
            total = total + (importance[k] * (p - anchor[k]) ** 2).sum()
    return total


def per_sample_grads(net: nn.Module, fn: Callable, x: torch.Tensor, y: torch.Tensor, chunk: int = 50) -> list[Params]:
    """d fn(net(x_i), y_i) / d theta for every sample i, in chunks: [{name: [chunk, *shape]}, ...]."""
    params = snapshot(net)

    def one(p, xi, yi):
        return fn(functional_call(net, p, (xi[None],)), yi[None])

    g = vmap(grad(one), in_dims=(None, 0, 0))
    return [g(params, x[i : i + chunk], y[i : i + chunk]) for i in range(0, len(x), chunk)]


def mean_over_samples(chunks: list[Params], f: Callable[[torch.Tensor], torch.Tensor], n: int) -> Params:
    return {k: sum(f(c[k]).sum(0) for c in chunks) / n for k in chunks[0]}


class Anchored(FineTune):
    """Fine-tuning plus ``strength`` * the quadratic penalty of ``anchors``; subclasses fill the anchors."""

    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, method_cfg: EWCConfig | SIConfig | MASConfig):
        super().__init__(d_in, n_classes, cfg)
        self.cfg, self.anchors = method_cfg, []

    def penalty(self, x, logits):
        return self.cfg.strength * quadratic_penalty(self.net, self.anchors)


class EWC(Anchored):
    def end_task(self, x, y):
        x = x[torch.randperm(len(x))[: self.cfg.n_samples]]
        self.net.eval()
        with torch.no_grad():  # the "true" Fisher: labels drawn from the model, not the data
            y_model = torch.distributions.Categorical(logits=self.net(x)).sample()
        chunks = per_sample_grads(self.net, lambda out, t: F.cross_entropy(out, t), x, y_model)
        self.anchors.append((mean_over_samples(chunks, torch.square, len(x)), snapshot(self.net)))


class MAS(Anchored):
    def end_task(self, x, y):
        x = x[torch.randperm(len(x))[: self.cfg.n_samples]]  # unlabelled: MAS needs no targets
        self.net.eval()
        chunks = per_sample_grads(self.net, lambda out, _: out.pow(2).sum(), x, torch.zeros(len(x)))
        new = mean_over_samples(chunks, torch.abs, len(x))
        old = self.anchors[0][0] if self.anchors else {k: torch.zeros_like(v) for k, v in new.items()}
        self.anchors = [({k: old[k] + new[k] for k in new}, snapshot(self.net))]


class SI(Anchored):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, si: SIConfig):
        super().__init__(d_in, n_classes, cfg, si)
        self.start = snapshot(self.net)  # weights when the task began
        self.omega = {k: torch.zeros_like(v) for k, v in self.start.items()}  # running path integral
        self.importance = {k: torch.zeros_like(v) for k, v in self.start.items()}

    def after_task_grad(self):
        self._grad = {k: p.grad.detach().clone() for k, p in self.net.named_parameters()}
        self._before = snapshot(self.net)

    def after_update(self):
        # the task loss's decrease credited to each weight: -g * delta (first order)
        for k, p in self.net.named_parameters():
            self.omega[k] -= self._grad[k] * (p.detach() - self._before[k])

    def begin_task(self, task, classes, seen):
        self.start = snapshot(self.net)
        self.omega = {k: torch.zeros_like(v) for k, v in self.start.items()}

    def end_task(self, x, y):
        now = snapshot(self.net)
        for k in now:
            delta2 = (now[k] - self.start[k]) ** 2
            self.importance[k] = self.importance[k] + (self.omega[k] / (delta2 + self.cfg.damping)).clamp(min=0)
        self.anchors = [(dict(self.importance), now)]


@METHODS.register("ewc")
def _ewc(d_in: int, n_classes: int, s: ContinualSettings) -> EWC:
    return EWC(d_in, n_classes, s.common, s.ewc)


@METHODS.register("si")
def _si(d_in: int, n_classes: int, s: ContinualSettings) -> SI:
    return SI(d_in, n_classes, s.common, s.si)


@METHODS.register("mas")
def _mas(d_in: int, n_classes: int, s: ContinualSettings) -> MAS:
    return MAS(d_in, n_classes, s.common, s.mas)
