"""ood: out-of-distribution detection with the unconditional EBM (openai/ebm_code_release).

Score -E(x) on the raw image (no Langevin); AUROC by scikit-learn with held-out
images as positives and each OOD set (as many images) as negatives. Embedded sets
are made from held-out digits (ebm.generalization.ood.TRANSFORMS); ``svhn``,
``cifar100``, ``textures`` come through torchvision (paper scale, network needed once).

Outputs: metrics/ood/<v>.json (AUROC per set and averages), plots/ood/<v>/<set>.csv
(ROC curves), plots/images/ood/<v>/{roc,energy_histograms}.png.
"""

from __future__ import annotations

import argparse
import shutil

import torch
from tqdm import tqdm

from ebm.generalization import TRANSFORMS, DatasetUnavailable, load_torchvision_set, transform_set
from ebm.generalization.ood import run
from stages.common.experiment import experiment_device, experiment_model, subset
from stages.common.generalization_figures import plot_histograms, plot_roc
from stages.common.io import UserError, atomic_path, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curves_dir, images_dir, metrics_file, raw_dir
from stages.common.tracking import stage_run


def ood_images(name: str, x_in: torch.Tensor, gen: torch.Generator, seed: int) -> torch.Tensor:
    if name in TRANSFORMS:
        return transform_set(name, x_in, gen)
    try:
        pick = torch.Generator().manual_seed(seed)  # which images of the set
        return load_torchvision_set(name, raw_dir(name), len(x_in), tuple(x_in.shape[1:]), pick).to(x_in.device)
    except DatasetUnavailable as e:
        raise UserError(f"ood.sets: {e}") from None


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg = params["ood"]
    if not cfg.sets:
        raise UserError("ood.sets = []: list at least one OOD set")
    device = experiment_device(params, "ood")
    model, ckpt = experiment_model(params, "ood", device)
    gen = torch.Generator(device).manual_seed(params["seed"])
    x_in, _ = subset(ckpt["dataset"], "test", exp.n_images, params["seed"], device)
    sets = ((name, ood_images(name, x_in, gen, params["seed"])) for name in tqdm(cfg.sets, desc="ood", unit="set"))
    with stage_run("ood", exp.variant, section_params(params, "seed", "ood")) as mlflow_run:
        result = run(model, x_in, sets, ckpt["label_dim"])
        shutil.rmtree(curves_dir("ood", exp.variant), ignore_errors=True)  # a rerun outside DVC
        with atomic_path(curves_dir("ood", exp.variant)) as tmp:
            for name, (fpr, tpr) in result.roc.items():
                write_csv(tmp / f"{name}.csv", [{"fpr": float(f), "tpr": float(t)} for f, t in zip(fpr, tpr)])
        figs = images_dir("ood", exp.variant)
        plot_roc(figs / "roc.png", result.roc, result.auroc)
        plot_histograms(figs / "energy_histograms.png", result.scores_in, result.scores)
        for f in ("roc.png", "energy_histograms.png"):
            mlflow_run.log_artifact(figs / f)
        metrics = result.metrics()
        mlflow_run.write_metrics(metrics_file("ood", exp.variant), metrics)
    print(f"ood@{exp.variant}: AUROC " + ", ".join(f"{k}={v:.3f}" for k, v in result.auroc.items())
          + f"; mean {metrics['auroc_mean']:.3f}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
