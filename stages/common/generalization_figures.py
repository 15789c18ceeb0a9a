"""The generalisation stages' figures: restore's panels, ood's ROC curves and energy histograms (the paper's
Figure 10), crossclass's chains and shares against the chain's noise, robustness's accuracy against eps (Figure 8).
The functions a stage logs as artifacts return the paths they wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stages.common.figures import image_panel, plt, save_figure


def restore_panel(directory: Path, task: str, split: str, images: tuple[torch.Tensor, ...], steps: int) -> Path:
    """<directory>/<task>_<split>.png: ten images per row of (corrupted, restored, clean)."""
    path = directory / f"{task}_{split}.png"
    image_panel(path, torch.stack([x[:10] for x in images]), ["corrupted", "restored", "clean"],
                title=f"{task}, {split} images (restored by {steps} Langevin steps)")
    return path


def draw_trajectories(path: Path, trajectory: torch.Tensor, y: torch.Tensor, y_new: torch.Tensor,
                      rows: list[dict]) -> Path:
    """Crossclass chains, one per row: the start image, then every round (``rows``: each round's steps)."""
    order = torch.argsort(y_new[:40], stable=True)[::2]  # 20 chains, sorted by the asked label
    image_panel(path, trajectory[:, order].transpose(0, 1), [f"{y[i]} -> {y_new[i]}" for i in order.tolist()],
                [str(r["steps"]) for r in rows], title="start class -> asked class; columns: Langevin steps")
    return path


def ood_figures(directory: Path, result) -> list[Path]:
    """roc.png and energy_histograms.png of an ebm.generalization.ood.OODResult."""
    plot_roc(directory / "roc.png", result.roc, result.auroc)
    plot_histograms(directory / "energy_histograms.png", result.scores_in, result.scores)
    return [directory / f for f in ("roc.png", "energy_histograms.png")]


def plot_roc(path, curves: dict[str, tuple], aucs: dict[str, float]) -> None:
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} ({aucs[name]:.2f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="false positive rate (OOD kept)", ylabel="true positive rate (held-out kept)",
           title="ROC of -E(x): held-out vs OOD (AUROC)")
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path)


def plot_histograms(path, s_in: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    """The paper's relative-likelihood figure: -E of held-out images against each set."""
    n = len(scores)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, (name, s) in zip(axes.flat, scores.items()):
        bins = np.linspace(min(s_in.min(), s.min()), max(s_in.max(), s.max()), 40)
        ax.hist(s_in, bins=bins, alpha=0.6, density=True, label="held-out")
        ax.hist(s, bins=bins, alpha=0.6, density=True, label=name)
        ax.set(title=name, xlabel="-E(x)")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    save_figure(fig, path)


def draw_noise(path: Path, by_noise: dict[str, dict], default_noise: float) -> Path:
    noise = [float(k) for k in by_noise]
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for key, label in (("new_label_share", "asked (new) label"), ("start_label_share", "start class")):
        ax.plot(noise, [v[key] for v in by_noise.values()], "o-", label=label)
    ax.axvline(default_noise, color="grey", ls=":", label=f"crossclass.noise_std ({default_noise:g})")
    ax.set_xscale("log")
    ax.set_xticks(noise, [f"{n:g}" for n in noise], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("Langevin noise std per step")
    ax.set_ylabel("share of chains after all steps")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    save_figure(fig, path)
    return path


def plot_robustness(path: Path, tables: dict[str, list[dict]]) -> Path:
    """Accuracy against the PGD budget, one panel per norm, one line per classifier (the paper's Figure 8)."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5 * len(tables), 4), squeeze=False)
    for ax, (norm, rows) in zip(axes.flat, tables.items()):
        for key in (k for k in rows[0] if k != "eps"):
            ax.plot([r["eps"] for r in rows], [r[key] for r in rows], "o-", label=key)
        ax.set(xlabel=f"eps ({'L-inf' if norm == 'linf' else 'L2'}, pixels in [0, 1])", ylabel="accuracy",
               ylim=(0, 1.02), title=f"PGD {norm}")
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, path)
    return path
