"""crossproduct: generalisation to unseen factor combinations, EBM vs a conditional generator (Figure 16).

The protocol (the original's gentest) is ebm.composition.gentest.run, once per experiment
(size x position, shape x position): the fine-tuned sum of the two factor EBMs against a
conditional generator that saw a share of the held-out pairs.

Outputs: metrics/crossproduct.json, plots/crossproduct/<experiment>.csv (MSE vs
share seen), plots/images/crossproduct/{figure16.png, <experiment>.png}.
"""

from __future__ import annotations

import argparse

import torch

from stages.common.composition import load_dsprites
from stages.common.crossproduct_figure import figure16
from stages.common.crossproduct_gentest import run_gentest
from stages.common.io import save_grid, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, PLOTS
from stages.common.tracking import stage_run

IMAGES = PLOTS / "images" / "crossproduct"


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg, train_cfg, langevin_cfg = params["crossproduct"]
    orientation = params["_raw"].get("dsprites", {}).get("slice_orientation", 15)
    gen = torch.Generator().manual_seed(params["seed"])
    torch.manual_seed(params["seed"])
    data, _ = load_dsprites()
    metrics, curves = {}, {}
    with stage_run("crossproduct", None, section_params(params, "seed", "crossproduct")) as run:
        for name in cfg.experiments:
            result = run_gentest(name, data, cfg, train_cfg, langevin_cfg, orientation, gen, run)
            metrics[name], curves[name], grid = result.metrics, result.curve, result.grid
            write_csv(PLOTS / "crossproduct" / f"{name}.csv", curves[name])
            save_grid(IMAGES / f"{name}.png", torch.cat([g for _, g in grid]), nrow=len(grid[0][1]), scale=3)
        figure16(curves, IMAGES / "figure16.png")
        run.write_metrics(METRICS / "crossproduct.json", metrics)
        run.log_artifact(IMAGES / "figure16.png")
    print("crossproduct: MSE on unseen pairs: " + ", ".join(
        f"{n}: EBM {m['mse_ebm']:.4f} vs generator {m['mse_baseline_unseen']:.4f} (0% seen) / "
        f"{m['mse_baseline_all_seen']:.4f} (100%)" for n, m in metrics.items()) + f" -> {IMAGES}/figure16.png")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
