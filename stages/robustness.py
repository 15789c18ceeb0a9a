"""robustness: PGD accuracy-vs-eps sweeps (L-inf, L2) for the conditional EBM as classifier (Figure 8).

The protocol (the three classifiers, calibration, the attacks) is ebm.generalization.robustness_sweep.run;
the plain classifier is the pipeline's digits CNN (models/classifier, ~60k weights vs the EBM's ~40k),
trained on the same train split. Outputs: metrics/robustness/<v>.json (accuracy table),
plots/robustness/<v>/{linf,l2}.csv, plots/images/robustness/<v>/accuracy_vs_eps.png.
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.generalization.robustness_sweep import run as sweep
from ebm.generalization.robustness_sweep import summary
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.generalization_figures import plot_robustness
from stages.common.generalization_io import robustness_summary, write_curves
from stages.common.io import UserError
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curves_dir, images_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg, langevin_cfg = params["robustness"]
    device = experiment_device(params, "robustness")
    model, ckpt = experiment_model(params, "robustness", device, conditional=True)
    k = ckpt["label_dim"]
    gen = torch.Generator(device).manual_seed(params["seed"])  # random starts and refinement noise
    x, y = subset(ckpt["dataset"], "test", exp.n_images, params["seed"], device)
    sweeps = {n: e for n, e in (("linf", cfg.linf_eps), ("l2", cfg.l2_eps)) if e}
    if not sweeps:
        raise UserError("robustness.linf_eps and robustness.l2_eps are both empty: list at least one eps")
    train = subset(ckpt["dataset"], "train", None, params["seed"], device)  # fits the calibration
    clf = judge(ckpt["dataset"], device)  # None at paper scale: the pipeline's classifier is digits-only
    with stage_run("robustness", exp.variant, section_params(params, "seed", "robustness")) as run:
        bar = tqdm(total=sum(len(e) for e in sweeps.values()), desc="robustness", unit="eps")

        def on_point(norm, row):
            bar.update(1)
            bar.set_postfix(norm=norm, eps=row["eps"], ebm=f"{row['ebm_refine']:.2f}")

        tables = sweep(model, k, (x, y), train, cfg, langevin_cfg, gen, clf, on_point)
        bar.close()
        write_curves(curves_dir("robustness", exp.variant), tables)
        run.log_artifact(plot_robustness(images_dir("robustness", exp.variant) / "accuracy_vs_eps.png", tables))
        metrics = summary(tables, model, k, (x, y), clf)
        run.write_metrics(metrics_file("robustness", exp.variant), metrics)
    print(robustness_summary(exp.variant, cfg.attack, tables))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
