"""Out-of-distribution detection (openai/ebm_code_release): score -E(x), AUROC by scikit-learn.

In-distribution images get label 1, the OOD set label 0, so a model that gives
held-out data lower energies than the OOD set scores close to 1. A score of 0.5
is chance, below 0.5 means the OOD set looks *more* likely than real data.

``TRANSFORMS`` are the paper's synthetic sets, built from held-out images so they
work on any image size (digits or CIFAR-10), plus digit-shaped sets a person
would call out of distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch


def _uniform(x, g):  # U(0, 1) per pixel
    return torch.rand(x.shape, generator=g, device=x.device)


def _constant_uniform(x, g):  # one U(0, 1) value per image, over all pixels and channels
    return torch.rand((x.shape[0], 1, 1, 1), generator=g, device=x.device).expand_as(x).clone()


def _gaussian(x, g):  # the original's randommix: N(0.5, 0.5^2) per pixel, not clipped
    return 0.5 + 0.5 * torch.randn(x.shape, generator=g, device=x.device)


def _interpolation(x, g):  # average of each image and the next one (the original's pairs)
    return (x + x.roll(-1, dims=0)) / 2


def _inverted(x, g):  # white digit on black -> black digit on white
    return 1.0 - x


def _shuffled(x, g):  # the same pixel values, each image's pixels in a random order
    flat = x.flatten(1)
    idx = torch.argsort(torch.rand(flat.shape, generator=g, device=x.device), dim=1)
    return flat.gather(1, idx).view_as(x)


TRANSFORMS: dict[str, Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]] = {
    "uniform": _uniform,
    "constant_uniform": _constant_uniform,
    "gaussian": _gaussian,
    "interpolation": _interpolation,
    "inverted": _inverted,
    "shuffled": _shuffled,
}


# The embedded sets (TRANSFORMS) and the paper's torchvision sets (ood_data.TORCHVISION_SETS).
OODSet = Literal["uniform", "constant_uniform", "gaussian", "interpolation", "inverted", "shuffled",
                 "svhn", "cifar100", "textures"]


@dataclass(frozen=True)
class OODConfig:
    sets: tuple[OODSet, ...] = tuple(TRANSFORMS)


def transform_set(name: str, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The OOD set ``name`` made from in-distribution images x [N, C, H, W] in [0, 1]."""
    return TRANSFORMS[name](x, generator)


@torch.no_grad()
def ood_scores(model, x: torch.Tensor, label_dim: int = 0, batch_size: int = 500) -> torch.Tensor:
    """-E(x) [N]; a conditional model scores max_y -E(x, y) (the original's min over classes)."""
    out = []
    for xb in x.split(batch_size):
        if label_dim:
            n = xb.shape[0]
            y = torch.arange(label_dim, device=xb.device).repeat_interleave(n)  # [K*n]: class k for the k-th copy
            e = model(xb.repeat(label_dim, 1, 1, 1), y).view(label_dim, n).min(0).values
        else:
            e = model(xb)
        out.append(-e)
    return torch.cat(out)


def _labels_scores(s_in, s_out) -> tuple[np.ndarray, np.ndarray]:
    s_in, s_out = np.asarray(s_in, dtype=np.float64), np.asarray(s_out, dtype=np.float64)
    labels = np.concatenate([np.ones(len(s_in)), np.zeros(len(s_out))])
    return labels, np.concatenate([s_in, s_out])


def auroc(s_in, s_out) -> float:
    """Area under the ROC curve for telling in-distribution (higher score) from OOD."""
    from sklearn.metrics import roc_auc_score  # lazy: params validation imports this package

    return float(roc_auc_score(*_labels_scores(s_in, s_out)))


def roc(s_in, s_out) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) of the ROC curve."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(*_labels_scores(s_in, s_out))
    return fpr, tpr


# The columns of the paper's table (openai/ebm_code_release), in our names.
PAPER_SETS = ("svhn", "textures", "constant_uniform", "uniform", "interpolation")


@dataclass
class OODResult:
    scores_in: np.ndarray  # [N] -E of the held-out images
    scores: dict[str, np.ndarray]  # set -> [N] -E of its images
    auroc: dict[str, float]
    roc: dict[str, tuple[np.ndarray, np.ndarray]]  # set -> (false positive rate, true positive rate)

    def metrics(self) -> dict:
        """AUROC per set, its mean over all sets and over the paper's, the mean scores."""
        paper = [self.auroc[s] for s in PAPER_SETS if s in self.auroc]
        return {"auroc": self.auroc,
                "auroc_mean": float(np.mean(list(self.auroc.values()))) if self.auroc else float("nan"),
                "auroc_mean_paper_sets": float(np.mean(paper)) if paper else float("nan"),
                "score_in_mean": float(self.scores_in.mean()),
                "score_mean": {k: float(v.mean()) for k, v in self.scores.items()}}

    def roc_rows(self) -> dict[str, list[dict]]:
        """Per set, the ROC curve as rows {fpr, tpr}."""
        return {name: [{"fpr": float(f), "tpr": float(t)} for f, t in zip(fpr, tpr)]
                for name, (fpr, tpr) in self.roc.items()}


def run(model, x_in: torch.Tensor, sets: Iterable[tuple[str, torch.Tensor]], label_dim: int = 0) -> OODResult:
    """The OOD protocol: held-out images x_in against each (name, images) set, scored by -E(x)."""
    s_in = ood_scores(model, x_in, label_dim).cpu().numpy()
    result = OODResult(s_in, {}, {}, {})
    for name, x_out in sets:
        s = result.scores[name] = ood_scores(model, x_out, label_dim).cpu().numpy()
        result.auroc[name], result.roc[name] = auroc(s_in, s), roc(s_in, s)
    return result
