"""crossclass: cross-class mode coverage with the conditional EBM (openai/ebm_code_release).

Each chain starts from a held-out image and runs under a different, random label (ebm.generalization.crossclass).
Metric (metrics/crossclass/<v>.json): the share of chains the digits classifier puts in the new label after
all rounds (``new_label_share``) and in the start image's class (``start_label_share``); per round in
plots/crossclass/<v>.csv. Panel: plots/images/crossclass/<v>/trajectories.png, one chain per row.
With ``noise_sweep``, the final shares per Langevin noise level in ``by_noise`` and .../noise.png.
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.evaluation import predict
from ebm.generalization import crossclass, other_labels
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.generalization_figures import draw_noise, draw_trajectories
from stages.common.generalization_io import crossclass_summary
from stages.common.io import UserError, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curve_file, images_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg, langevin_cfg = params["crossclass"]
    if langevin_cfg.n_steps == 0:
        raise UserError("crossclass.n_steps = 0: the chains need at least one step per round")
    device = experiment_device(params, "crossclass")
    model, ckpt = experiment_model(params, "crossclass", device, conditional=True)
    clf = judge(ckpt["dataset"], device)
    if clf is None:
        raise UserError(f"crossclass.variant = {exp.variant!r}: no classifier trained on {ckpt['dataset']} to score it")
    gen = torch.Generator(device).manual_seed(params["seed"])  # new labels and chain noise
    x, y = subset(ckpt["dataset"], "test", exp.n_images, params["seed"], device)
    y_new = other_labels(y, ckpt["label_dim"], gen)
    classify = lambda z: predict(clf, z)[0].argmax(1)  # noqa: E731
    with stage_run("crossclass", exp.variant, section_params(params, "seed", "crossclass")) as run:
        result = crossclass.run(model, classify, x, y, y_new, langevin_cfg, cfg, gen,
                                progress=lambda it, desc: tqdm(it, desc=desc))
        for row in result.rows:
            run.log_metrics({k: v for k, v in row.items() if k != "steps"}, step=row["steps"])
        write_csv(curve_file("crossclass", exp.variant), result.rows)
        figs = images_dir("crossclass", exp.variant)
        run.log_artifact(draw_trajectories(figs / "trajectories.png", result.trajectory, y, y_new, result.rows))
        if result.by_noise:
            run.log_artifact(draw_noise(figs / "noise.png", result.by_noise, langevin_cfg.noise_std))
        metrics = result.metrics(langevin_cfg.noise_std)
        run.write_metrics(metrics_file("crossclass", exp.variant), metrics)
    print(crossclass_summary(exp.variant, metrics))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
