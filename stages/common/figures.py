"""Matplotlib figures for the stages: written atomically, with the Agg backend (no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from stages.common.io import atomic_path  # noqa: E402


def save_figure(fig, path: Path, dpi: int = 100, tight_layout: bool = True) -> None:
    if tight_layout:
        fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)


def image_panel(path: Path, images: torch.Tensor, row_labels: list[str], col_labels: list[str] | None = None,
                title: str | None = None, cell: float = 0.6) -> None:
    """A labelled grid: images [R, C, channels, H, W] in [0, 1], one labelled row each."""
    r, c = images.shape[:2]
    fig, axes = plt.subplots(r, c, figsize=(cell * c + 1.2, cell * r + (0.4 if title else 0.1)), squeeze=False)
    for i in range(r):
        for j in range(c):
            ax = axes[i, j]
            img = images[i, j].detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
            ax.imshow(img.squeeze(-1) if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=8)
            if i == 0 and col_labels:
                ax.set_title(col_labels[j], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    save_figure(fig, path)
