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
import math

import numpy as np
import torch
from tqdm import tqdm

from ebm.continual import EnergyClassifier, Result, Task, build_method, run_tasks, split_tasks
from ebm.continual.config import SUBSECTIONS
from ebm.data import dequantize
from stages.common.data import load_split
from stages.common.io import UserError, atomic_path, write_csv, write_json
from stages.common.main import run_main
from stages.common.params import flatten, load_params
from stages.common.sections import continual as continual_params
from stages.common.sections import data as data_params
from stages.common.paths import curves_dir, images_dir, metrics_file
from stages.common.tracking import stage_run

# Table 1 of the paper (split MNIST, class-incremental, mean +- std of 10 seeds, percent).
# The baselines are Hsu et al. (2018)'s numbers; the paper's "NAS" is MAS (same 19.52 +- 0.29).
PAPER = {"ewc": (19.80, 0.05), "si": (19.67, 0.09), "mas": (19.52, 0.29), "lwf": (24.17, 0.33),
         "vae": (40.04, 1.31), "ebm": (64.99, 4.27)}


def row_name(method: str, rule: str) -> str:
    return f"{method}_{rule}" if rule else method


def method_params(params: dict, method: str) -> dict:
    """What a method's run reads: the seed, the shared continual keys and its own sub-section."""
    raw = params["_raw"].get("continual") or {}
    picked = {k: v for k, v in raw.items() if k not in SUBSECTIONS}
    if method in SUBSECTIONS:
        picked[method] = raw.get(method) or {}
    return {"seed": params["seed"], **flatten({"continual": picked})}


def error_split(confusion: np.ndarray, sizes: np.ndarray) -> dict[str, float]:
    """Percent of all test images given a label of a later task than their own (an old image called new),
    of an earlier task (a new image called old), or the wrong label of their own task."""
    w = sizes[:, None] / sizes.sum()  # [T, 1] share of the test set of each row's task
    later, earlier = np.triu(confusion, 1), np.tril(confusion, -1)
    return {"err_old_as_new": float(100 * (w * later).sum()), "err_new_as_old": float(100 * (w * earlier).sum())}


def summarize(results: list[Result], sizes: np.ndarray) -> dict[str, dict]:
    """Per classification rule: the final accuracy on all classes (percent, mean/std over seeds), what is
    left of each task after the last one, the errors across tasks, the accuracy matrix (after task t, on
    task j; mean over seeds) and (under "curve") the accuracy after each task."""
    out = {}
    for rule in results[0].acc_all:
        curves = 100 * np.array([r.acc_all[rule] for r in results])  # [seeds, T]
        matrix = 100 * np.array([r.acc_task[rule] for r in results]).mean(0)  # [T, T] after task t, on task j
        conf = np.array([r.task_confusion[rule] for r in results]).mean(0)  # [T, T] task of image -> of label
        errors = error_split(conf, sizes)
        within = 100 - curves[:, -1].mean() - sum(errors.values())  # the rest of the errors
        errors["err_within_task"] = max(0.0, round(float(within), 6))  # not -0.0 from float rounding
        errors["dominant_error"] = max(("old_as_new", "new_as_old", "within_task"), key=lambda k: errors[f"err_{k}"])
        out[rule] = {
            "acc_mean": float(curves[:, -1].mean()),
            "acc_std": float(curves[:, -1].std(ddof=1)) if len(curves) > 1 else 0.0,
            "acc_seeds": [float(a) for a in curves[:, -1]],
            **{f"final_task{t + 1}": float(a) for t, a in enumerate(matrix[-1])},
            **errors,
            "acc_matrix": [[float(round(a, 2)) for a in row] for row in matrix],
            "curve": [{"task": t + 1, "acc_mean": float(m), "acc_std": float(sd)}
                      for t, (m, sd) in enumerate(zip(curves.mean(0), curves.std(0)))],
        }
    return out


def joint_tasks(y: torch.Tensor, n_classes: int) -> list[Task]:
    """All classes as one task: the non-continual ceiling."""
    return [Task(tuple(range(n_classes)), torch.arange(len(y)))]


def n_batches(tasks, epochs: int, batch_size: int) -> int:
    return epochs * sum(math.ceil(len(t.index) / batch_size) for t in tasks)


def run_method(name: str, settings, data, tasks, n_classes: int, seed: int, run,
               row: str | None = None) -> dict[str, dict]:
    (x, y), (xt, yt) = data
    results, bar = [], None
    for i in range(settings.common.n_seeds):
        torch.manual_seed(seed + i)  # the i-th seed of every method is seed + i
        method = build_method(name, x.shape[1], n_classes, settings)
        if bar is None:
            total = settings.common.n_seeds * n_batches(tasks[0], method.epochs, method.batch_size)
            bar = tqdm(total=total, desc=f"continual@{row or name}", unit="batch")
        results.append(run_tasks(method, (x, y), (xt, yt), *tasks, on_batch=lambda _: bar.update()))
        bar.set_postfix(seed=i, acc=f"{100 * results[-1].acc_all[''][-1]:.1f}")
    bar.close()
    if isinstance(method, EnergyClassifier):  # the EBM of the last seed, registered: forward(x, labels [B, L])
        run.log_model(method.model, f"igebm-continual-{row or name}", x[:2].numpy(),
                      torch.arange(n_classes)[None].expand(2, -1).numpy())
    sizes = np.array([len(t.index) for t in tasks[1]], dtype=float)
    rows = {row_name(row or name, rule): s for rule, s in summarize(results, sizes).items()}
    for row, s in rows.items():
        for point in s["curve"]:
            run.log_metrics({f"{row}.acc_after_task": point["acc_mean"], f"{row}.acc_after_task_std": point["acc_std"]},
                            step=point["task"])
        run.log_metrics({f"{row}.{k}": v for k, v in s.items() if isinstance(v, (int, float))})
    return rows


def plot_matrices(rows: dict[str, dict], path) -> None:
    """One heat map per continual row: accuracy (%) on task j (columns) after learning task t (rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {k: s for k, s in rows.items() if len(s["acc_matrix"]) > 1}  # the joint ceilings have one task
    n = len(rows)
    cols = min(n, 4)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(3.2 * cols, 3.0 * ((n + cols - 1) // cols)),
                             squeeze=False)
    for ax, (row, s) in zip(axes.flat, rows.items()):
        m = np.array(s["acc_matrix"])
        ax.imshow(m, vmin=0, vmax=100, cmap="viridis")
        for (t, j), a in np.ndenumerate(m):
            if j <= t:
                ax.text(j, t, f"{a:.0f}", ha="center", va="center", fontsize=7, color="w" if a < 60 else "k")
        ticks = np.arange(len(m))
        ax.set(xticks=ticks, xticklabels=ticks + 1, yticks=ticks, yticklabels=ticks + 1,
               title=f"{row} ({s['acc_mean']:.1f}%)")
        ax.set_xlabel("tested on task", fontsize=8)
        ax.set_ylabel("after task", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def plot(rows: dict[str, dict], path, dataset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ceilings = {row: s for row, s in rows.items() if len(s["curve"]) == 1}
    rows = {row: s for row, s in rows.items() if row not in ceilings}
    n_rows = len(rows)
    for row, s in ceilings.items():
        ax1.axhline(s["acc_mean"], ls="--", lw=1, color="k" if row.startswith("ebm") else "grey",
                    label=f"{row}: all classes at once ({s['acc_mean']:.1f})")
    for k, (row, s) in enumerate(rows.items()):
        m, sd = (np.array([p[key] for p in s["curve"]]) for key in ("acc_mean", "acc_std"))
        tasks = np.arange(1, len(m) + 1)
        (line,) = ax1.plot(tasks, m, marker="o", label=f"{row} ({s['acc_mean']:.1f} ± {s['acc_std']:.1f})")
        ax1.fill_between(tasks, m - sd, m + sd, color=line.get_color(), alpha=0.15)
        if row in PAPER:
            ax1.plot([tasks[-1] + 0.15], [PAPER[row][0]], marker="*", ms=11, color=line.get_color(), ls="none")
        width = 0.8 / n_rows
        final = [s[f"final_task{t}"] for t in tasks]
        ax2.bar(tasks + (k - (n_rows - 1) / 2) * width, final, width, color=line.get_color(), label=row)
    ax1.set(xlabel="tasks learned", ylabel="accuracy on all classes (%)", ylim=(0, 100), xticks=tasks,
            title=f"class-incremental split {dataset} (stars: paper, split MNIST)")
    ax1.axhline(100 / (2 * len(tasks)), color="grey", lw=0.8, ls=":")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="task (classes 2t-2, 2t-1)", ylabel="accuracy after the last task (%)", ylim=(0, 100),
            xticks=tasks, title="what is remembered of each task")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


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
            table.update(run_method(name, settings, data, tasks, n_classes, params["seed"], run))
    if c.joint:
        joint = (joint_tasks(y, n_classes), joint_tasks(yt, n_classes))
        for name, row in (("ebm", "ebm_joint"), ("finetune", "mlp_joint")):
            with stage_run("continual", row, method_params(params, name)) as run:
                table.update(run_method(name, settings, data, joint, n_classes, params["seed"], run, row=row))
    for row, s in table.items():
        if row in PAPER:
            s["paper_mean"], s["paper_std"] = PAPER[row]
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
