"""evaluate@<variant>: generation quality in the digits classifier's features.

Metrics (single model and historical ensemble): Fréchet distance to held-out
digits, the same distance between train and held-out images (the floor), the
share of conditional samples classified as the asked class, and how evenly the
samples cover the classes.
"""

from __future__ import annotations

import numpy as np
import torch

from ebm.data import dequantize
from ebm.evaluation import frechet_distance, predict
from stages.common.data import load_split
from stages.common.io import UserError, load_npz
from stages.common.main import run_main, variant_parser
from stages.common.models import classifier_from_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import images
from stages.common.paths import classifier_dir, metrics_file, samples_dir
from stages.common.tracking import stage_run


def class_entropy(pred: torch.Tensor, n_classes: int) -> float:
    """Entropy of the predicted-class histogram over log(n_classes): 1 = all classes equally."""
    p = torch.bincount(pred, minlength=n_classes).float()
    p = p / p.sum()
    return float(-(p[p > 0] * p[p > 0].log()).sum() / np.log(n_classes))


def main(args) -> None:
    params = load_params(images.SECTIONS)
    var = variant(params, args.variant)
    cfg = params["evaluate"]
    if var.dataset != "digits":
        raise UserError(f"variants.{args.variant}.dataset = {var.dataset!r}: evaluate scores digits only; "
                        "paper-scale datasets use FID/IS")
    x_train, _, meta = load_split("digits", "train")
    x_test, _, _ = load_split("digits", "test")
    if cfg.n_reference > len(x_train):  # fewer would silently change the floor
        raise UserError(f"evaluate.n_reference = {cfg.n_reference}: more than the {len(x_train)} digits train images")
    fix = f"dvc repro sample@{args.variant}"
    s = load_npz(samples_dir(args.variant) / "samples.npz", "samples", fix,
                 keys=("single", "ensemble", "single_labels", "ensemble_labels"))
    clf = classifier_from_checkpoint(classifier_dir() / "model.pt")
    gen = torch.Generator().manual_seed(params["seed"])
    ref = x_train[torch.randperm(len(x_train), generator=gen)[: cfg.n_reference]]
    _, f_test = predict(clf, dequantize(x_test, noise=False))
    _, f_ref = predict(clf, dequantize(ref, noise=False))
    metrics = {"fd_floor": frechet_distance(f_ref.numpy(), f_test.numpy())}
    for name in ("single", "ensemble"):
        x = dequantize(torch.from_numpy(s[name]), noise=False)
        logits, feats = predict(clf, x)
        pred = logits.argmax(1)
        metrics[f"fd_{name}"] = frechet_distance(feats.numpy(), f_test.numpy())
        metrics[f"class_entropy_{name}"] = class_entropy(pred, meta["n_classes"])
        metrics[f"confidence_{name}"] = float(logits.softmax(1).max(1).values.mean())
        if var.conditional:
            asked = torch.from_numpy(s[f"{name}_labels"])
            metrics[f"cond_accuracy_{name}"] = float((pred == asked).float().mean())
    with stage_run("evaluate", args.variant, section_params(params, "seed", "evaluate", variant_name=args.variant)) as run:
        run.write_metrics(metrics_file("evaluate", args.variant), metrics)
    print(f"evaluate@{args.variant}: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
