"""Learning without Forgetting (Li & Hoiem 2016), class-incremental.

After each task the model is frozen as a teacher; on the next tasks the
student's logits of the already-seen classes are distilled towards the
teacher's on the *current* images (softmax at temperature T, KL * T^2).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from ebm.continual.base import METHODS
from ebm.continual.config import ContinualConfig, ContinualSettings, LwFConfig
from ebm.continual.finetune import FineTune


def distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(softmax(teacher/T) || softmax(student/T)) * T^2, mean over the batch; 0 when equal."""
    t = temperature
    return F.kl_div(F.log_softmax(student / t, 1), F.log_softmax(teacher / t, 1), log_target=True,
                    reduction="batchmean") * t * t


class LwF(FineTune):
    def __init__(self, d_in: int, n_classes: int, cfg: ContinualConfig, lwf: LwFConfig):
        super().__init__(d_in, n_classes, cfg)
        self.cfg, self.teacher, self.old = lwf, None, ()

    def penalty(self, x, logits):
        if self.teacher is None:
            return logits.new_zeros(())
        with torch.no_grad():
            target = self.teacher(x)[:, self.old]
        return self.cfg.strength * distillation(logits[:, self.old], target, self.cfg.temperature)

    def begin_task(self, task, classes, seen):
        self.old = [c for c in seen if c not in classes]  # classes of the earlier tasks

    def end_task(self, x, y):
        self.teacher = copy.deepcopy(self.net).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)


@METHODS.register("lwf")
def _lwf(d_in: int, n_classes: int, s: ContinualSettings) -> LwF:
    return LwF(d_in, n_classes, s.common, s.lwf)
