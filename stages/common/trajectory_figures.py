"""The trajectory figures: Figure 13 (Fréchet distance by horizon) and Figure 12 (rendered rollouts)."""

from __future__ import annotations

import numpy as np

from ebm.trajectories.evaluate import FEATURES, SETTINGS
from stages.common.figures import plt
from stages.common.io import atomic_path
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
