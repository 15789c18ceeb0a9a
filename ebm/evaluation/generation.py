"""Generation quality in a classifier's features: Fréchet distances of samples to held-out images (and of
train images, the floor), and how the classifier reads the samples."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ebm.data import dequantize
from ebm.evaluation.classifier import predict
from ebm.evaluation.frechet import frechet_distance


def class_entropy(pred: torch.Tensor, n_classes: int) -> float:
    """Entropy of the predicted-class histogram over log(n_classes): 1 = all classes equally."""
    p = torch.bincount(pred, minlength=n_classes).float()
    p = p / p.sum()
    return float(-(p[p > 0] * p[p > 0].log()).sum() / np.log(n_classes))


def generation_metrics(clf: nn.Module, test: torch.Tensor, reference: torch.Tensor, samples: dict[str, torch.Tensor],
                       n_classes: int, asked: dict[str, torch.Tensor] | None = None) -> dict[str, float]:
    """The evaluate stage's metrics; all images uint8, as stored (dequantised here without noise).

    ``fd_floor``: the reference (train) images to the ``test`` images. Per sample set <name>: ``fd_<name>`` to the
    test images, ``class_entropy_<name>``, ``confidence_<name>`` (mean top softmax probability) and, given the
    labels the samples were asked for, ``cond_accuracy_<name>``.
    """
    _, f_test = predict(clf, dequantize(test, noise=False))
    _, f_ref = predict(clf, dequantize(reference, noise=False))
    metrics = {"fd_floor": frechet_distance(f_ref.numpy(), f_test.numpy())}
    for name, images in samples.items():
        logits, feats = predict(clf, dequantize(images, noise=False))
        pred = logits.argmax(1)
        metrics[f"fd_{name}"] = frechet_distance(feats.numpy(), f_test.numpy())
        metrics[f"class_entropy_{name}"] = class_entropy(pred, n_classes)
        metrics[f"confidence_{name}"] = float(logits.softmax(1).max(1).values.mean())
        if asked is not None:
            metrics[f"cond_accuracy_{name}"] = float((pred == asked[name]).float().mean())
    return metrics
