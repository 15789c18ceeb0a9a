"""restore: denoising (salt & pepper) and inpainting (bottom half) with the conditional EBM.

Langevin runs on the corrupted pixels only, under the true label (openai/ebm_code_release).
The same is done on train images and on held-out images: a model that memorised
its training set would restore train images much better (the original's check).

Metrics (metrics/restore/<v>.json), per task and split: MSE of the restored image
to the clean one over all pixels (and of the corrupted image, for scale), and the
share of restored images the digits classifier still puts in their class.
Panels: plots/images/restore/<v>/<task>_<split>.png, rows: corrupted / restored / clean.
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.evaluation import predict
from ebm.generalization import bottom_half, mse_per_image, restore, salt_and_pepper
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.figures import image_panel
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import images_dir, metrics_file
from stages.common.tracking import stage_run


def class_kept(clf, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(clf, x)[0].argmax(1) == y).float().mean())


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
    exp, cfg, langevin_cfg = params["restore"]
    device = experiment_device(params, "restore")
    model, ckpt = experiment_model(params, "restore", device, conditional=True)
    clf = judge(ckpt["dataset"], device)
    gen = torch.Generator(device).manual_seed(params["seed"])  # corruption and chain noise
    tasks = [("denoise", cfg.denoise_rounds), ("inpaint", cfg.inpaint_rounds)]
    metrics = {}
    with stage_run("restore", exp.variant, section_params(params, "seed", "restore")) as run:
        bar = tqdm(total=2 * len(tasks), desc="restore", unit="set")
        for split in ("train", "test"):
            x, y = subset(ckpt["dataset"], split, exp.n_images, params["seed"], device)
            for task, rounds in tasks:
                if task == "denoise":
                    xc, mask = salt_and_pepper(x, cfg, gen)
                    mask = mask if cfg.denoise_mask == "corrupted" else torch.ones_like(mask)
                else:
                    xc, mask = bottom_half(x, gen)
                xr = restore(model, xc, y, mask, langevin_cfg, rounds, gen)
                m = {"mse": float(mse_per_image(xr, x).mean()), "mse_corrupted": float(mse_per_image(xc, x).mean())}
                if clf is not None:
                    m |= {"class_kept": class_kept(clf, xr, y), "class_kept_corrupted": class_kept(clf, xc, y)}
                metrics[f"{task}_{split}"] = m
                panel = images_dir("restore", exp.variant) / f"{task}_{split}.png"
                image_panel(panel, torch.stack([xc[:10], xr[:10], x[:10]]), ["corrupted", "restored", "clean"],
                            title=f"{task}, {split} images (restored by {rounds * langevin_cfg.n_steps} Langevin steps)")
                run.log_artifact(panel)
                bar.update(1)
        bar.close()
        for task, _ in tasks:  # > 1: held-out images restore worse than train ones
            metrics[f"{task}_test_over_train_mse"] = metrics[f"{task}_test"]["mse"] / max(metrics[f"{task}_train"]["mse"], 1e-12)
        run.write_metrics(metrics_file("restore", exp.variant), metrics)
    print("restore@" + exp.variant + ": " + ", ".join(
        f"{k} mse={v['mse']:.4f} (corrupted {v['mse_corrupted']:.4f})" + (f" kept={v['class_kept']:.2f}" if "class_kept" in v else "")
        for k, v in metrics.items() if isinstance(v, dict)))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
