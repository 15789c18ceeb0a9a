"""The continual stage's runs and outputs: a method's task loop (ebm.continual.experiment.run_method) with a
progress bar and its rows logged to its MLflow run, then the table's curves, figures and metrics."""

from __future__ import annotations

import torch
from tqdm import tqdm

from ebm.continual import EnergyClassifier
from ebm.continual.experiment import n_batches, run_method
from stages.common.continual_figures import plot, plot_matrices
from stages.common.io import write_csv, write_json
from stages.common.paths import curves_dir, images_dir, metrics_file


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


def write_outputs(table: dict[str, dict], dataset: str, n_seeds: int, n_tasks: int) -> None:
    """plots/continual/<dataset>/<row>.csv, the two figures under plots/images/continual/<dataset>/ and
    metrics/continual.json (every row but its curve; accuracies in percent)."""
    for row, s in table.items():
        write_csv(curves_dir("continual", dataset) / f"{row}.csv", s["curve"])
    plot(table, images_dir("continual", dataset) / "accuracy.png", dataset)
    plot_matrices(table, images_dir("continual", dataset) / "accuracy_matrix.png")
    metrics = {row: {k: v for k, v in s.items() if k != "curve"} for row, s in table.items()}
    write_json(metrics_file("continual"), {"dataset": dataset, "n_seeds": n_seeds, "n_tasks": n_tasks,
                                           "methods": metrics})  # accuracies in percent


def print_summary(table: dict[str, dict], dataset: str, n_seeds: int) -> None:
    """Each row's final accuracy on all classes and where its errors go, on stdout."""
    print(f"continual ({dataset}, {n_seeds} seeds, final accuracy on all classes): "
          + ", ".join(f"{row} {s['acc_mean']:.1f}±{s['acc_std']:.1f}" for row, s in table.items()))
    for row, s in table.items():
        print(f"  {row}: errors (% of test images) old image as new label {s['err_old_as_new']:.1f}, "
              f"new image as old label {s['err_new_as_old']:.1f}, within task {s['err_within_task']:.1f}")
