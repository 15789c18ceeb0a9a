from ebm.training.algorithm1 import TrainConfig, Trainer, batch_at, random_batches
from ebm.training.fit import FitLog, fit, postfix
from ebm.training.guard import DivergenceError, DivergenceGuard, GuardConfig
from ebm.training.loss import CURVE_KEYS, contrastive_loss
from ebm.training.optim import ClippedAdam

__all__ = [
    "CURVE_KEYS", "ClippedAdam", "DivergenceError", "DivergenceGuard", "FitLog", "GuardConfig", "TrainConfig", "Trainer", "batch_at",
    "contrastive_loss", "fit", "postfix", "random_batches",
]
