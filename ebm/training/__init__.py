from ebm.training.algorithm1 import TrainConfig, Trainer, batch_at, random_batches
from ebm.training.fit import FitLog, fit
from ebm.training.guard import DivergenceError, DivergenceGuard, GuardConfig
from ebm.training.loss import contrastive_loss
from ebm.training.optim import ClippedAdam

__all__ = [
    "ClippedAdam", "DivergenceError", "DivergenceGuard", "FitLog", "GuardConfig", "TrainConfig", "Trainer", "batch_at",
    "contrastive_loss", "fit", "random_batches",
]
