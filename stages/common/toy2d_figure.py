"""toy2d's Figure 14: the energy contours of each 2-D EBM and of their sum, samples, Langevin paths."""

from __future__ import annotations

from ebm.composition import toy2d
from stages.common.composition import save_figure
from stages.common.figures import plt


def outline_supports(ax) -> None:
    """Dashed: where the metric counts a point as inside the ring's / the band's support."""
    k = toy2d.SUPPORT_SIGMAS
    for r in (toy2d.RING_RADIUS - k * toy2d.RING_STD, toy2d.RING_RADIUS + k * toy2d.RING_STD):
        ax.add_patch(plt.Circle(toy2d.RING_CENTRE, r, fill=False, ls="--", lw=0.8, color="pink"))
    for y in (toy2d.BAND_Y - k * toy2d.BAND_STD, toy2d.BAND_Y + k * toy2d.BAND_STD):
        ax.axhline(y, ls="--", lw=0.8, color="pink")


def figure14(models, samples, traces, path) -> None:
    """Energy contours of each EBM and of their sum; samples; trajectories over the sum."""
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.6))
    panels = [("ring", ["ring"]), ("band", ["band"]), ("ring + band (sum of energies)", ["ring", "band"])]
    for ax, (title, names) in zip(axes, panels):
        xs, ys, e = toy2d.energy_grid(lambda z: sum(models[n](z) for n in names))
        ax.contourf(xs, ys, e, 30, cmap="viridis")
        ax.contour(xs, ys, e, 12, colors="white", linewidths=0.3)
        s = samples["_and_".join(names)][:400]
        ax.scatter(s[:, 0], s[:, 1], s=3, c="red", label="samples")
        outline_supports(ax)
        ax.set(title=f"E: {title}", xlim=(0, 1), ylim=(0, 1), aspect="equal")
    for t in traces.unbind(1):  # traces [T, n, 2]: one line per chain
        axes[2].plot(t[:, 0], t[:, 1], color="white", lw=0.8, alpha=0.9)
        axes[2].plot(t[0, 0], t[0, 1], "o", color="orange", ms=3)
    axes[2].set_xlabel("white: Langevin paths from uniform noise (orange); dashed: the supports")
    fig.tight_layout()
    save_figure(fig, path)
