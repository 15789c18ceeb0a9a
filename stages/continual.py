"""continual: class-incremental split digits (5 tasks of 2 classes) with the EBM and the paper's baselines.

Every method (fine-tuning, EWC, SI, MAS, LwF, conditional-VAE replay, the EBM)
runs the same task loop on the same 400-400 MLP, for ``n_seeds`` seeds; one
MLflow run per method. With ``joint``, the ceilings ``ebm_joint`` and
``mlp_joint``: the same EBM and the fine-tuned MLP trained on all classes as one
task. Outputs: metrics/continual.json (the table, accuracies in percent beside
the paper's Table 1, each row with its accuracy matrix and which error dominates
at the end), plots/continual/<dataset>/<row>.csv (accuracy on all classes after
each task, mean and std over seeds), plots/images/continual/<dataset>/accuracy.png
and accuracy_matrix.png (accuracy on every task after each task, a heat map).
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.continual import EnergyClassifier, split_tasks
from ebm.continual.experiment import add_paper, joint_tasks, n_batches, run_method
from ebm.data import dequantize
from stages.common.data import load_split
from stages.common.continual_figures import plot, plot_matrices
from stages.common.io import UserError, write_csv, write_json
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.paths import curves_dir, images_dir, metrics_file
from stages.common.sections import continual as continual_params
from stages.common.sections import data as data_params
from stages.common.sections.continual import method_params
from stages.common.tracking import stage_run


def run_logged(name: str, settings, data, tasks, n_classes: int, seed: int, run, row: str | None = None) -> dict:
    """ebm.continual.experiment.run_method with a progress bar, its rows logged to the MLflow ``run``."""
    bar = None

    def on_build(i, method):
        nonlocal bar
        if bar is None:
            total = settings.common.n_seeds * n_batches(tasks[0], method.epochs, method.batch_size)
            bar = tqdm(total=total, desc=f"continual@{row or name}", unit="batch")

    def on_seed(i, result):
        bar.set_postfix(seed=i, acc=f"{100 * result.acc_all[''][-1]:.1f}")

    rows, method = run_method(name, settings, *data, tasks, n_classes, seed, row, on_build=on_build,
                              on_batch=lambda _: bar.update(), on_seed=on_seed)
    bar.close()
    if isinstance(method, EnergyClassifier):  # the EBM of the last seed, registered: forward(x, labels [B, L])
        x = data[0][0]
        run.log_model(method.model, f"igebm-continual-{row or name}", x[:2].numpy(),
                      torch.arange(n_classes)[None].expand(2, -1).numpy())
    for r, s in rows.items():
        for point in s["curve"]:
            run.log_metrics({f"{r}.acc_after_task": point["acc_mean"], f"{r}.acc_after_task_std": point["acc_std"]},
                            step=point["task"])
        run.log_metrics({f"{r}.{k}": v for k, v in s.items() if isinstance(v, (int, float))})
    return rows


def main(args) -> None:
    params = load_params(data_params.SECTIONS, continual_params.SECTIONS)
    settings = params["continual"]
    c = settings.common
    if c.dataset not in params["download"].datasets:
        raise UserError(f"continual.dataset = {c.dataset!r}: not in download.datasets "
                        f"(add it: -S 'download.datasets=[digits,{c.dataset}]')")
    x, y, meta = load_split(c.dataset, "train")
    xt, yt, _ = load_split(c.dataset, "test")
    n_classes = meta["n_classes"]
    if n_classes % c.classes_per_task:
        raise UserError(f"continual.classes_per_task = {c.classes_per_task}: {n_classes} classes do not split evenly")
    data = ((dequantize(x, noise=False).flatten(1), y), (dequantize(xt, noise=False).flatten(1), yt))  # [N, D] in [0, 1]
    tasks = (split_tasks(y, n_classes, c.classes_per_task), split_tasks(yt, n_classes, c.classes_per_task))
    table = {}
    for name in c.methods:
        with stage_run("continual", name, method_params(params, name)) as run:
            table.update(run_logged(name, settings, data, tasks, n_classes, params["seed"], run))
    if c.joint:
        joint = (joint_tasks(y, n_classes), joint_tasks(yt, n_classes))
        for name, row in (("ebm", "ebm_joint"), ("finetune", "mlp_joint")):
            with stage_run("continual", row, method_params(params, name)) as run:
                table.update(run_logged(name, settings, data, joint, n_classes, params["seed"], run, row=row))
    add_paper(table)
    for row, s in table.items():
        write_csv(curves_dir("continual", c.dataset) / f"{row}.csv", s["curve"])
    plot(table, images_dir("continual", c.dataset) / "accuracy.png", c.dataset)
    plot_matrices(table, images_dir("continual", c.dataset) / "accuracy_matrix.png")
    metrics = {row: {k: v for k, v in s.items() if k != "curve"} for row, s in table.items()}
    write_json(metrics_file("continual"), {"dataset": c.dataset, "n_seeds": c.n_seeds, "n_tasks": len(tasks[0]),
                                           "methods": metrics})  # accuracies in percent
    print(f"continual ({c.dataset}, {c.n_seeds} seeds, final accuracy on all classes): "
          + ", ".join(f"{row} {s['acc_mean']:.1f}±{s['acc_std']:.1f}" for row, s in table.items()))
    for row, s in table.items():
        print(f"  {row}: errors (% of test images) old image as new label {s['err_old_as_new']:.1f}, "
              f"new image as old label {s['err_new_as_old']:.1f}, within task {s['err_within_task']:.1f}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
