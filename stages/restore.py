"""restore: denoising (salt & pepper) and inpainting (bottom half) with the conditional EBM.

Langevin runs on the corrupted pixels only, under the true label (openai/ebm_code_release;
protocol: ebm.generalization.corruption.run), on train and on held-out images:
a model that memorised its training set would restore train images much better.
Metrics (metrics/restore/<v>.json), per task and split: the restored and the corrupted images'
MSE to the clean ones, and the share the digits classifier still puts in their class.
Panels: plots/images/restore/<v>/<task>_<split>.png, rows: corrupted / restored / clean.
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.evaluation import predict
from ebm.generalization import corruption
from ebm.generalization.corruption import TASKS, task_rounds
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.generalization_figures import restore_panel
from stages.common.generalization_io import restore_summary
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import images_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg, langevin_cfg = params["restore"]
    device = experiment_device(params, "restore")
    model, ckpt = experiment_model(params, "restore", device, conditional=True)
    clf = judge(ckpt["dataset"], device)
    classify = None if clf is None else (lambda z: predict(clf, z)[0].argmax(1))
    gen = torch.Generator(device).manual_seed(params["seed"])  # corruption and chain noise
    splits = {split: subset(ckpt["dataset"], split, exp.n_images, params["seed"], device) for split in ("train", "test")}
    with stage_run("restore", exp.variant, section_params(params, "seed", "restore")) as run:
        bar = tqdm(total=len(splits) * len(TASKS), desc="restore", unit="set")
        result = corruption.run(model, splits, cfg, langevin_cfg, gen, classify, on_task=lambda *_: bar.update(1))
        bar.close()
        for (task, split), panel in result.images.items():
            steps = task_rounds(cfg, task) * langevin_cfg.n_steps
            run.log_artifact(restore_panel(images_dir("restore", exp.variant), task, split, panel, steps))
        metrics = result.metrics
        run.write_metrics(metrics_file("restore", exp.variant), metrics)
    print(restore_summary(exp.variant, metrics))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
