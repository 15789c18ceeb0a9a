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

import torch
from tqdm import tqdm

from ebm.generalization.ood import run
from stages.common.experiment import experiment_device, experiment_model, subset
from stages.common.generalization_figures import ood_figures
from stages.common.generalization_io import ood_images, ood_summary, write_curves
from stages.common.io import UserError
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curves_dir, images_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg = params["ood"]
    if not cfg.sets:
        raise UserError("ood.sets = []: list at least one OOD set")
    device = experiment_device(params, "ood")
    model, ckpt = experiment_model(params, "ood", device)
    gen = torch.Generator(device).manual_seed(params["seed"])
    x_in, _ = subset(ckpt["dataset"], "test", exp.n_images, params["seed"], device)
    # a generator: each set is made (or loaded) as run() reaches it
    sets = ((name, ood_images(name, x_in, gen, params["seed"])) for name in tqdm(cfg.sets, desc="ood", unit="set"))
    with stage_run("ood", exp.variant, section_params(params, "seed", "ood")) as mlflow_run:
        result = run(model, x_in, sets, ckpt["label_dim"])
        write_curves(curves_dir("ood", exp.variant), result.roc_rows())
        for fig in ood_figures(images_dir("ood", exp.variant), result):
            mlflow_run.log_artifact(fig)
        metrics = result.metrics()
        mlflow_run.write_metrics(metrics_file("ood", exp.variant), metrics)
    print(ood_summary(exp.variant, metrics))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
