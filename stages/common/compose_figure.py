"""compose's Figure 15: the asked factors above the true images, then each scheme's joint samples."""

from __future__ import annotations

import math

import torch

from ebm.composition.dsprites import SHAPES
from stages.common.composition import save_figure
from stages.common.figures import plt


def asked(values: torch.Tensor, combo) -> list[str]:
    """Per image, the asked factor values in words (the column titles of Figure 15)."""
    words = {"size": lambda v: f"size {v[1]:.1f}", "shape": lambda v: SHAPES[int(v[0])],
             "position": lambda v: f"({v[3]:.2f}, {v[4]:.2f})", "rotation": lambda v: f"{math.degrees(v[2]):.0f}°"}
    return ["\n".join(words[f](v.tolist()) for f in combo) for v in values]


def figure15_rows(samples: dict, x_true: torch.Tensor, values: torch.Tensor, cfg) -> list[tuple]:
    """Figure 15's rows (label, images, titles): per combination of ``cfg.combos``, its first ``cfg.n_show``
    true images titled with the asked factors, then the samples of each scheme (``samples[scheme, combo]``)."""
    rows = []
    for combo in cfg.combos:
        rows.append((f"asked {' + '.join(combo)}\n(true image)", x_true[: cfg.n_show],
                     asked(values[: cfg.n_show], combo)))
        rows += [(f"EBM {scheme}", samples[scheme, combo][: cfg.n_show], None) for scheme in cfg.schemes]
    return rows


def figure15(rows: list[tuple[str, torch.Tensor, list[str] | None]], path) -> None:
    """One labelled row of images per entry; a row with titles puts them above its images."""
    n = rows[0][1].shape[0]
    fig, axes = plt.subplots(len(rows), n, figsize=(0.9 * n + 2.2, 1.1 * len(rows)), squeeze=False)
    for r, (label, images, titles) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if titles:
                ax.set_title(titles[c], fontsize=6, pad=2)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.subplots_adjust(left=0.2, right=0.99, top=0.98, bottom=0.01, wspace=0.05, hspace=0.45)
    save_figure(fig, path)
