"""The continual-learning figures: accuracy after each task beside the paper's Table 1, and the
accuracy matrices (stages/continual.py)."""

from __future__ import annotations

import numpy as np

from ebm.continual.experiment import PAPER
from stages.common.figures import plt
from stages.common.io import atomic_path


def plot_matrices(rows: dict[str, dict], path) -> None:
    """One heat map per continual row: accuracy (%) on task j (columns) after learning task t (rows)."""
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
