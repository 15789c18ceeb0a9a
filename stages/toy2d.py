"""toy2d: two EBMs on two 2-D densities, and sampling from the sum of their energies (Figure 14).

Each density (a ring, a band; ebm.composition.toy2d) gets its own EBM, trained
with Algorithm 1 on points (float replay buffer). Fresh chains from uniform
noise then sample each EBM alone and the sum of both; the metric is the share
of samples inside *both* supports: the sum samples the product, so it should
be near 1, while either EBM alone lands about a third of its samples there.

Outputs: models/composition/toy2d/{ring,band}.pt, metrics/toy2d.json,
plots/toy2d/{ring,band}.csv (training curves), plots/images/toy2d/figure14.png.
"""

from __future__ import annotations

import argparse

import torch

from ebm.checkpoint import pack
from ebm.composition import toy2d
from ebm.composition.compose import compose_langevin
from ebm.training import Trainer, random_batches
from stages.common.composition import save_figure, train_loop
from stages.common.io import atomic_path, save_torch, write_csv
from stages.common.figures import plt
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common import composition
from stages.common.paths import METRICS, PLOTS, composition_model
from stages.common.tracking import stage_run

FIGURE = PLOTS / "images" / "toy2d" / "figure14.png"


def train(name, cfg, net, train_cfg, langevin_cfg, run) -> tuple[torch.nn.Module, list[dict]]:
    x = toy2d.sample(name, cfg.n_points)
    model = toy2d.ToyEnergy(net.hidden, net.act, net.spectral_norm, cfg.input_scale)
    trainer = Trainer(model, train_cfg, langevin_cfg, lambda n: torch.rand(n, 2), quantize_buffer=False)
    rows = train_loop(trainer, random_batches(x, None, train_cfg.batch_size), train_cfg.n_iters, net.log_every,
                      run, f"toy2d {name}", f"{name}.")
    return model.eval().requires_grad_(False), rows


def outline_supports(ax) -> None:
    """Dashed: where the metric counts a point as inside the ring's / the band's support."""
    k = toy2d.SUPPORT_SIGMAS
    for r in (toy2d.RING_RADIUS - k * toy2d.RING_STD, toy2d.RING_RADIUS + k * toy2d.RING_STD):
        ax.add_patch(plt.Circle(toy2d.RING_CENTRE, r, fill=False, ls="--", lw=0.8, color="pink"))
    for y in (toy2d.BAND_Y - k * toy2d.BAND_STD, toy2d.BAND_Y + k * toy2d.BAND_STD):
        ax.axhline(y, ls="--", lw=0.8, color="pink")


def draw(models, samples, traces, path) -> None:
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


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg, net, train_cfg, langevin_cfg = params["toy2d"]
    torch.manual_seed(params["seed"])
    out = composition_model("toy2d")
    with stage_run("toy2d", None, section_params(params, "seed", "toy2d")) as run:
        models, curves = {}, {}
        for name in toy2d.DENSITIES:
            models[name], curves[name] = train(name, cfg, net, train_cfg, langevin_cfg, run)
        x0 = torch.rand(cfg.n_samples, 2)
        samples, metrics = {}, {}
        for names, scheme in ((["ring"], "sum"), (["band"], "sum"), (["ring", "band"], cfg.scheme)):
            energies = [models[n] for n in names]
            samples["_and_".join(names)], trace = compose_langevin(energies, x0, langevin_cfg, scheme, models=tuple(energies),
                                                               n_steps=cfg.sample_steps, trace_every=1)
            metrics["_and_".join(names)] = toy2d.support_shares(samples["_and_".join(names)])
        traces = torch.stack([x0[: cfg.n_traces], *[t[: cfg.n_traces] for t in trace]])  # the sum's chains
        metrics["data"] = toy2d.support_shares(torch.cat([toy2d.sample(n, cfg.n_samples) for n in toy2d.DENSITIES]))
        with atomic_path(out) as tmp:
            tmp.mkdir(parents=True)
            for name, model in models.items():
                save_torch(tmp / f"{name}.pt", pack("toy_energy", {"hidden": list(net.hidden), "act": net.act,
                                                                   "spectral_norm": net.spectral_norm,
                                                                   "input_scale": cfg.input_scale}, model))
        for name, rows in curves.items():
            write_csv(PLOTS / "toy2d" / f"{name}.csv", rows)
        draw(models, samples, traces, FIGURE)
        summary = {"in_both_sum": metrics["ring_and_band"]["in_both"], "in_both_ring_only": metrics["ring"]["in_both"],
                   "in_both_band_only": metrics["band"]["in_both"], "scheme": cfg.scheme, "shares": metrics}
        run.write_metrics(METRICS / "toy2d.json", summary)
        run.log_artifact(FIGURE)
    print(f"toy2d: share of samples in both supports: sum {summary['in_both_sum']:.3f}, ring alone "
          f"{summary['in_both_ring_only']:.3f}, band alone {summary['in_both_band_only']:.3f} -> {FIGURE}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
