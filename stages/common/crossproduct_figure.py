"""crossproduct's Figure 16: MSE on unseen factor pairs, the conditional generator by share seen against the EBM sum."""

from __future__ import annotations

from stages.common.composition import save_figure
from stages.common.figures import plt


def figure16(curves: dict, path) -> None:
    """Per experiment: the generator's MSE on unseen pairs by the share of them it saw; the EBM sum's as a line."""
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.8), squeeze=False)
    for ax, (name, rows) in zip(axes[0], curves.items()):
        seen = [100 * r["seen"] for r in rows]
        ax.plot(seen, [r["mse_baseline"] for r in rows], "o-", label="conditional generator")
        ax.axhline(rows[0]["mse_ebm"], color="C3", ls="--", label="EBM sum (0% seen)")
        ax.plot([0], [rows[0]["mse_ebm"]], "s", color="C3")
        ax.set(title=name.replace("_", " x "), xlabel="% of held-out combinations seen in training",
               ylabel="MSE to the true image (held-out pairs)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
