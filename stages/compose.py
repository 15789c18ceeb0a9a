"""compose: joint dSprites samples from the sum of the factor EBMs' energies (Figure 15).

The protocol (combinations, schemes, the judge's scores, each factor model alone) is
ebm.composition.figure15.run; this stage loads the held-out images, the factor models and the
judge, runs it and writes metrics/compose.json and plots/images/compose/figure15.png (per
combination: the true images, then the samples of each scheme asked the same factors).
"""

from __future__ import annotations

import argparse
import math

import torch
from tqdm import tqdm

from ebm.composition.dsprites import SHAPES
from ebm.composition.figure15 import run
from stages.common.composition import (
    factor_from_checkpoint, judge_from_checkpoint, load_dsprites, save_figure,
)
from stages.common.figures import plt
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common import composition
from stages.common.paths import METRICS, PLOTS
from stages.common.tracking import stage_run

FIGURE = PLOTS / "images" / "compose" / "figure15.png"


def asked(values: torch.Tensor, combo) -> list[str]:
    """Per image, the asked factor values in words (the column titles of Figure 15)."""
    words = {"size": lambda v: f"size {v[1]:.1f}", "shape": lambda v: SHAPES[int(v[0])],
             "position": lambda v: f"({v[3]:.2f}, {v[4]:.2f})", "rotation": lambda v: f"{math.degrees(v[2]):.0f}°"}
    return ["\n".join(words[f](v.tolist()) for f in combo) for v in values]


def draw(rows: list[tuple[str, torch.Tensor, list[str] | None]], path) -> None:
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
        metrics, figure = result.metrics, []
        for combo in cfg.combos:
            figure.append((f"asked {' + '.join(combo)}\n(true image)", x_true[: cfg.n_show],
                           asked(values[: cfg.n_show], combo)))
            figure += [(f"EBM {scheme}", result.samples[scheme, combo][: cfg.n_show], None) for scheme in cfg.schemes]
        mlflow_run.write_metrics(METRICS / "compose.json", metrics)
        draw(figure, FIGURE)
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
