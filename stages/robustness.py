"""robustness: PGD accuracy-vs-eps sweeps (L-inf, L2) for the conditional EBM as classifier.

Three classifiers, each attacked by its own PGD (random start in the eps-ball, projection
onto the eps-ball around the original image, clamp to [0, 1]; ebm.generalization.robustness):
  * ebm_refine: the paper's classifier, lowest energy over classes after ``n_steps`` Langevin
    refinement steps inside an L-inf box of ``refine_box`` around the input. With ``calibrate``
    the energies get per-class offsets and a temperature fitted on the train split (the
    original's ``e_bias`` is zeros; uncalibrated, our digits EBM predicts one class for all).
    What the attack differentiates through (``attack``):
      - plain (default, as the original code): the gradient of cross-entropy on -E(x, k) of the
        energy classifier *without* refinement; the refinement is applied afterwards as a defence,
        so no gradient passes through the Langevin steps (the examples are those of ebm_plain).
      - bpda: the refinement runs inside every attack step and is taken as the identity in the
        backward pass: gradients of -E at the refined images, summed over the class copies.
  * ebm_plain: the same energy classifier without refinement (white-box gradients).
  * classifier: the pipeline's digits CNN (models/classifier, ~60k weights vs the EBM's ~40k),
    trained on the same train split with cross-entropy: the plain classifier of similar size.

Outputs: metrics/robustness/<v>.json (accuracy table), plots/robustness/<v>/{linf,l2}.csv,
plots/images/robustness/<v>/accuracy_vs_eps.png.
"""

from __future__ import annotations

import argparse
import shutil
from functools import partial

import torch
from tqdm import tqdm

from ebm.generalization import accuracy, energy_logits, fit_calibration, pgd, refined_logits
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.figures import plt, save_figure
from stages.common.io import UserError, atomic_path, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curves_dir, images_dir, metrics_file
from stages.common.tracking import stage_run

CHUNK = 100  # images attacked at once (x n_classes energy evaluations for the EBM)


def sweep_point(classifiers: dict, x, y, eps: float, norm: str, cfg, attack: str, gen) -> dict:
    """Accuracy of each classifier under its PGD at one eps."""
    row = {"eps": eps}
    pgd_ = partial(pgd, eps=eps, norm=norm, steps=cfg.pgd_steps, step_frac=cfg.pgd_step_frac, generator=gen)
    x_plain = pgd_(classifiers["ebm_plain"], x, y)
    row["ebm_plain"] = accuracy(classifiers["ebm_plain"], x_plain, y)
    x_ref = x_plain if attack == "plain" else pgd_(classifiers["ebm_bpda"], x, y)
    row["ebm_refine"] = accuracy(classifiers["ebm_refine"], x_ref, y)
    if "classifier" in classifiers:
        row["classifier"] = accuracy(classifiers["classifier"], pgd_(classifiers["classifier"], x, y), y)
    return row


def plot_curves(path, tables: dict[str, list[dict]]) -> None:
    fig, axes = plt.subplots(1, len(tables), figsize=(5 * len(tables), 4), squeeze=False)
    for ax, (norm, rows) in zip(axes.flat, tables.items()):
        for key in (k for k in rows[0] if k != "eps"):
            ax.plot([r["eps"] for r in rows], [r[key] for r in rows], "o-", label=key)
        ax.set(xlabel=f"eps ({'L-inf' if norm == 'linf' else 'L2'}, pixels in [0, 1])", ylabel="accuracy",
               ylim=(0, 1.02), title=f"PGD {norm}")
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, path)


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
    x_train, y_train = subset(ckpt["dataset"], "train", None, params["seed"], device)
    with torch.no_grad():
        raw = energy_logits(model, x_train, k)
    # Fitted once on the plain energies, used with and without refinement (the energies are not retrained).
    cal = fit_calibration(raw, y_train) if cfg.calibrate else None
    refined = partial(refined_logits, model, n_classes=k, cfg=langevin_cfg, box=cfg.refine_box, calibration=cal,
                      generator=gen)
    classifiers = {
        "ebm_plain": partial(energy_logits, model, n_classes=k, calibration=cal),
        "ebm_refine": refined,
        "ebm_bpda": partial(refined, straight_through=True),
    }
    clf = judge(ckpt["dataset"], device)  # None at paper scale: the pipeline's classifier is digits-only
    if clf is not None:
        classifiers["classifier"] = clf
    tables = {}
    with stage_run("robustness", exp.variant, section_params(params, "seed", "robustness")) as run:
        bar = tqdm(total=sum(len(e) for e in sweeps.values()), desc="robustness", unit="eps")
        for norm, eps_list in sweeps.items():
            tables[norm] = []
            for eps in eps_list:
                chunks = [sweep_point(classifiers, x[i : i + CHUNK], y[i : i + CHUNK], eps, norm, cfg, cfg.attack, gen)
                          for i in range(0, len(x), CHUNK)]
                sizes = [len(y[i : i + CHUNK]) for i in range(0, len(x), CHUNK)]
                row = {key: sum(c[key] * s for c, s in zip(chunks, sizes)) / len(x) for key in chunks[0]}
                tables[norm].append(row)
                bar.update(1)
                bar.set_postfix(norm=norm, eps=eps, ebm=f"{row['ebm_refine']:.2f}")
        bar.close()
        shutil.rmtree(curves_dir("robustness", exp.variant), ignore_errors=True)  # a rerun outside DVC
        with atomic_path(curves_dir("robustness", exp.variant)) as tmp:
            for norm, rows in tables.items():
                write_csv(tmp / f"{norm}.csv", rows)
        fig = images_dir("robustness", exp.variant) / "accuracy_vs_eps.png"
        plot_curves(fig, tables)
        run.log_artifact(fig)
        metrics = {norm: {key: {f"eps_{r['eps']:g}": r[key] for r in rows} for key in rows[0] if key != "eps"}
                   for norm, rows in tables.items()}
        metrics["n_images"] = len(x)
        metrics["clean_accuracy_uncalibrated"] = accuracy(partial(energy_logits, model, n_classes=k), x, y)
        metrics["n_weights"] = {"ebm": sum(p.numel() for p in model.parameters())}
        if clf is not None:
            metrics["n_weights"]["classifier"] = sum(p.numel() for p in clf.parameters())
        run.write_metrics(metrics_file("robustness", exp.variant), metrics)
    print(f"robustness@{exp.variant} (attack={cfg.attack}): " + "; ".join(
        f"{norm} eps={rows[-1]['eps']:g}: " + ", ".join(f"{m}={a:.2f}" for m, a in rows[-1].items() if m != "eps")
        for norm, rows in tables.items()))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
