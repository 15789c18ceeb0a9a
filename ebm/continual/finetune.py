"""Plain fine-tuning: one softmax over all classes, cross-entropy on the current task only.

The base of the regularised baselines (EWC, SI, MAS, LwF): they add ``penalty``
to the loss and may hook into the update (SI needs the task-loss gradient).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ebm.continual.base import METHODS, Method, mlp
from ebm.continual.config import ContinualConfig, ContinualSettings


class FineTune(Method):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig):
        self.net = mlp(d_in, cfg.hidden, n_classes)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.epochs, self.batch_size = cfg.epochs, cfg.batch_size

    def penalty(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """The regulariser added to the task loss; none for fine-tuning."""
        return logits.new_zeros(())

    def after_task_grad(self) -> None:
        """Hook: ``p.grad`` holds the task loss's gradient alone (before the penalty's)."""

    def after_update(self) -> None:
        """Hook: the optimiser step has been taken."""

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        self.net.train()
        self.opt.zero_grad(set_to_none=True)
        logits = self.net(x)  # [B, n_classes]
        loss = F.cross_entropy(logits, y)
        loss.backward(retain_graph=True)
        self.after_task_grad()
        reg = self.penalty(x, logits)
        if reg.requires_grad:
            reg.backward()
        self.opt.step()
        self.after_update()
        return {"loss": loss.item(), "penalty": reg.item()}

    @torch.no_grad()
    def scores(self, x: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        return self.net(x)


@METHODS.register("finetune")
def _finetune(d_in: int, n_classes: int, s: ContinualSettings) -> FineTune:
    return FineTune(d_in, n_classes, s.common)
