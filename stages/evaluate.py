"""evaluate@<variant>: generation quality in the digits classifier's features.

Metrics (single model and historical ensemble; ebm.evaluation.generation): Fréchet distance to
held-out digits, the same distance between train and held-out images (the floor), the
share of conditional samples classified as the asked class, and how evenly the
samples cover the classes.
"""

from __future__ import annotations

import torch

from ebm.evaluation.generation import generation_metrics
from stages.common.data import load_split
from stages.common.io import UserError, load_npz
from stages.common.main import run_main, variant_parser
from stages.common.models import classifier_from_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import images
from stages.common.paths import classifier_dir, metrics_file, samples_dir
from stages.common.tracking import stage_run

SETS = ("single", "ensemble")  # the final model's samples and the historical ensemble's


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
    samples = {name: torch.from_numpy(s[name]) for name in SETS}
    asked = {name: torch.from_numpy(s[f"{name}_labels"]) for name in SETS} if var.conditional else None
    metrics = generation_metrics(clf, x_test, ref, samples, meta["n_classes"], asked)
    tracked = section_params(params, "seed", "evaluate", variant_name=args.variant)
    with stage_run("evaluate", args.variant, tracked) as run:
        run.write_metrics(metrics_file("evaluate", args.variant), metrics)
    print(f"evaluate@{args.variant}: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
