"""The trajectory figures: Figure 13 (Fréchet distance by horizon) and Figure 12 (rendered rollouts), and
the tables behind Figure 13 (evaluate_traj)."""

from __future__ import annotations

import numpy as np

from ebm.trajectories.evaluate import FEATURES, SETTINGS
from stages.common.figures import plt
from stages.common.io import atomic_path, write_csv
from stages.common.render import rendered


def figure13(table: dict, horizons, path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for i, feature in enumerate(FEATURES):
        for j, setting in enumerate(SETTINGS):
            ax = axes[i, j]
            for name, fds in table[setting][feature].items():
                style = {"static": dict(ls=":", color="gray"), "data": dict(ls="--", color="black")}.get(name, {})
                ax.plot(horizons, [fds[f"h{h}"] for h in horizons], marker="o", ms=3, label=name, **style)
            ax.set(title=f"{setting}: {feature}", xlabel="horizon (steps of 0.04 s)", ylabel="Fréchet distance",
                   yscale="log")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Hand trajectories: Fréchet distance to held-out trajectories (cf. the paper's Figure 13)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def figure12(env_id: str, rows: dict[str, np.ndarray], n: int, every: int, size: int, path) -> None:
    """For each of n held-out starts: the real continuation and each model's, rendered; a frame every
    ``every`` steps from the last start state. rows: name -> states [n, H+1, D]."""
    flat = rendered(env_id, [s[i] for s in rows.values() for i in range(n)], every, size,
                    "trajectory.evaluate.render")
    strips = {name: [np.concatenate(list(f), 1) for f in flat[r * n : (r + 1) * n]] for r, name in enumerate(rows)}
    width = strips["real"][0].shape[1]
    fig, axes = plt.subplots(n * len(rows), 1, figsize=(width / 80, 1.25 * n * len(rows) * size / 80 * 0.9))
    axes = np.atleast_1d(axes)
    for i in range(n):
        for r, name in enumerate(rows):
            ax = axes[i * len(rows) + r]
            ax.imshow(strips[name][i])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_ylabel(f"{name}" + (f"\n(start {i})" if r == 0 else ""), rotation=0, ha="right", va="center",
                          fontsize=8)
    axes[0].set_title(f"held-out start, then every {every} steps: real vs generated (conditional rollouts)", fontsize=9)
    fig.tight_layout(h_pad=0.2)
    fig.subplots_adjust(left=0.16)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)


def write_fd_tables(table: dict, horizons, path) -> None:
    """``path``/<setting>_<feature>.csv: the Fréchet distance of every model (and reference row) by horizon."""
    for setting in SETTINGS:
        for f in FEATURES:
            write_csv(path / f"{setting}_{f}.csv",
                      [{"horizon": h, **{n: table[setting][f][n][f"h{h}"] for n in table[setting][f]}}
                       for h in horizons])


def log_figures(run, result, horizons, render, env_id: str, n_test: int, path) -> None:
    """Figure 13 and, when rendering is on, Figure 12 (the first held-out trajectories, offset 0) written
    under ``path`` and logged to the MLflow ``run``."""
    figure13(result.table, horizons, path / "figure13.png")
    run.log_artifact(path / "figure13.png")
    if render.render and render.n_render > 0:
        n = min(render.n_render, n_test)  # offset 0 of the first held-out trajectories
        figure12(env_id, {name: s[:n].numpy() for name, s in result.shown.items()}, n, render.render_every,
                 render.render_size, path / "figure12.png")
        run.log_artifact(path / "figure12.png")
