"""compose: joint dSprites samples from the sum of the factor EBMs' energies (Figure 15).

The protocol (combinations, schemes, the judge's scores, each factor model alone) is
ebm.composition.figure15.run; this stage loads the held-out images, the factor models and the
judge, runs it and writes metrics/compose.json and plots/images/compose/figure15.png (per
combination: the true images, then the samples of each scheme asked the same factors).
"""

from __future__ import annotations

import argparse
import torch
from tqdm import tqdm

from ebm.composition.figure15 import run
from stages.common.composition import factor_from_checkpoint, judge_from_checkpoint, load_dsprites
from stages.common.compose_figure import figure15, figure15_rows
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, PLOTS
from stages.common.tracking import stage_run

FIGURE = PLOTS / "images" / "compose" / "figure15.png"


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg, tol, langevin_cfg = params["compose"]
    gen = torch.Generator().manual_seed(params["seed"])
    torch.manual_seed(params["seed"])
    data, test = load_dsprites()
    held = torch.nonzero(test).squeeze(1)
    rows = held[torch.randperm(len(held), generator=gen)[: cfg.n_samples]]
    x_true, classes, values = data.images[rows].float() / 255, data.classes[rows], data.values[rows]
    perm = torch.randperm(len(rows), generator=gen)
    judge = judge_from_checkpoint()
    models = {f: factor_from_checkpoint(f) for f in sorted({f for combo in cfg.combos for f in combo})}
    with stage_run("compose", None, section_params(params, "seed", "compose")) as mlflow_run:
        x0 = torch.rand(x_true.shape, generator=gen)
        result = run(models, judge, x_true, classes, values, perm, x0, cfg, tol, langevin_cfg, gen,
                     progress=lambda jobs: tqdm(jobs, desc="compose", unit="combo"))
        metrics = result.metrics
        mlflow_run.write_metrics(METRICS / "compose.json", metrics)
        figure15(figure15_rows(result.samples, x_true, values, cfg), FIGURE)
        mlflow_run.log_artifact(FIGURE)
    s0 = cfg.schemes[0]
    print("compose: each factor model alone shows its own factor in " + ", ".join(
        f"{f} {m['samples']:.2f} (true {m['true_images']:.2f}, chance {m['chance']:.2f})"
        for f, m in metrics["own_factor"].items()) + " of its samples")
    print(f"compose ({s0}): share of samples showing all asked factors: " + ", ".join(
        f"{'+'.join(c)} {metrics[s0]['_'.join(c)]['all']:.2f} (true {metrics['ground_truth']['_'.join(c)]['all']:.2f}, "
        f"chance {metrics['chance']['_'.join(c)]['all']:.2f})" for c in cfg.combos) + f" -> {FIGURE}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
