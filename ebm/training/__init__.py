from ebm.training.algorithm1 import TrainConfig, Trainer, random_batches
from ebm.training.loss import contrastive_loss
from ebm.training.optim import ClippedAdam

__all__ = ["ClippedAdam", "TrainConfig", "Trainer", "contrastive_loss", "random_batches"]
