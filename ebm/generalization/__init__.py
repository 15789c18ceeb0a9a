"""Generalisation experiments (README: Generalisation experiments): denoising/inpainting, cross-class, OOD, robustness."""

from ebm.generalization.corruption import RestoreConfig, bottom_half, mse_per_image, restore, salt_and_pepper
from ebm.generalization.crossclass import CrossClassConfig, cross_class_chains, other_labels
from ebm.generalization.ood import TRANSFORMS, OODConfig, auroc, ood_scores, roc, transform_set
from ebm.generalization.ood_data import TORCHVISION_SETS, DatasetUnavailable, load_torchvision_set
from ebm.generalization.robustness import (
    RobustnessConfig, accuracy, energy_logits, fit_calibration, pgd, project, random_start, refine, refined_logits,
)

__all__ = [
    "TORCHVISION_SETS", "TRANSFORMS", "CrossClassConfig", "DatasetUnavailable", "OODConfig", "RestoreConfig",
    "RobustnessConfig",
    "accuracy", "auroc", "bottom_half", "cross_class_chains", "energy_logits", "fit_calibration", "load_torchvision_set",
    "mse_per_image", "ood_scores", "other_labels", "pgd", "project", "random_start", "refine",
    "refined_logits", "restore", "roc", "salt_and_pepper", "transform_set",
]
