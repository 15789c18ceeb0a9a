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

from ebm.composition import toy2d
from stages.common.toy2d_figure import figure14
from stages.common.toy2d_models import save_models, train
from stages.common.io import write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, PLOTS, composition_model
from stages.common.tracking import stage_run

FIGURE = PLOTS / "images" / "toy2d" / "figure14.png"


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
        samples, metrics, traces = toy2d.sample_each_and_sum(models, x0, langevin_cfg, cfg.scheme, cfg.sample_steps,
                                                             cfg.n_traces)
        save_models(models, net, cfg, out)
        for name, rows in curves.items():
            write_csv(PLOTS / "toy2d" / f"{name}.csv", rows)
        figure14(models, samples, traces, FIGURE)
        summary = {"in_both_sum": metrics["ring_and_band"]["in_both"], "in_both_ring_only": metrics["ring"]["in_both"],
                   "in_both_band_only": metrics["band"]["in_both"], "scheme": cfg.scheme, "shares": metrics}
        run.write_metrics(METRICS / "toy2d.json", summary)
        run.log_artifact(FIGURE)
    print(f"toy2d: share of samples in both supports: sum {summary['in_both_sum']:.3f}, ring alone "
          f"{summary['in_both_ring_only']:.3f}, band alone {summary['in_both_band_only']:.3f} -> {FIGURE}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
