"""evaluate_traj: Fréchet distance of generated to held-out hand trajectories (Figure 13), rendered rollouts (Figure 12).

The protocol (settings, starts, scoring, reference rows) is ebm.trajectories.evaluate.run;
this stage loads the recording and the four checkpoints, runs it and writes:
metrics/evaluate_traj.json, plots/evaluate_traj/<setting>_<feature>.csv,
plots/images/evaluate_traj/{figure12,figure13}.png, and every model's rollouts as arrays,
data/rollouts/<model>.npz (raw state units): ``<setting>_start`` [B, k, D] (the starts, the
held-out ones for conditional, repeated ``samples`` times for the EBMs), ``<setting>`` [B, H, D]
(the generated states after them), ``real`` [M, H, D] (the held-out continuations),
``test_trajectory`` / ``test_offset`` [M] (where each held-out start is: index into
test_states, first step), ``horizons``; enough to score them outside the stage.
"""

from __future__ import annotations

import argparse

import torch

from ebm.trajectories.evaluate import FEATURES, SETTINGS, run
from stages.common.sections import trajectories
from stages.common.io import UserError, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import DATA, METRICS, PLOTS
from stages.common.tracking import stage_run
from stages.common.rollouts import save_rollouts, trained
from stages.common.trajectories import load_trajectories
from stages.common.trajectory_figures import figure12, figure13

IMAGES = PLOTS / "images" / "evaluate_traj"
ROLLOUTS = DATA / "rollouts"


def main(args) -> None:
    params = load_params(trajectories.SECTIONS)
    sec = params["trajectory"]
    cfg, render = sec["evaluate"]
    k, names, seed = sec["top"].context, sec["top"].models, params["seed"]
    data, meta = load_trajectories()
    horizon = max(cfg.horizons)
    if data["test"].shape[1] < k + horizon:
        raise UserError(f"trajectory.evaluate.horizons: {horizon} steps after {k} context states need trajectories "
                        f"of {k + horizon} states, recorded ones have {data['test'].shape[1]}; lower it or raise "
                        "record.length")
    torch.manual_seed(seed)
    models = [trained(name, k) for name in names]
    result = run(models, data["train"], data["test"], k, cfg, torch.Generator().manual_seed(seed))
    table = result.table
    for setting in SETTINGS:
        for f in FEATURES:
            write_csv(PLOTS / "evaluate_traj" / f"{setting}_{f}.csv",
                      [{"horizon": h, **{n: table[setting][f][n][f"h{h}"] for n in table[setting][f]}}
                       for h in cfg.horizons])
    save_rollouts(result, horizon, ROLLOUTS)
    flat = {k_: v for k_, v in section_params(params, "seed", "trajectory").items()
            if k_ == "seed" or k_.startswith(("trajectory.evaluate.", "trajectory.context", "trajectory.models"))}
    with stage_run("evaluate_traj", None, flat) as mlflow_run:
        n_starts = len(result.real)
        mlflow_run.write_metrics(METRICS / "evaluate_traj.json", {**table, "n_starts": n_starts,
                                                                 "horizons": list(cfg.horizons)})
        figure13(table, cfg.horizons, IMAGES / "figure13.png")
        mlflow_run.log_artifact(IMAGES / "figure13.png")
        if render.render and render.n_render > 0:
            n = min(render.n_render, len(data["test"]))  # offset 0 of the first held-out trajectories
            figure12(meta["env_id"], {n_: s[:n].numpy() for n_, s in result.shown.items()}, n, render.render_every,
                     render.render_size, IMAGES / "figure12.png")
            mlflow_run.log_artifact(IMAGES / "figure12.png")
    h = f"h{horizon}"
    print(f"evaluate_traj: {n_starts} held-out starts; motion FD at {horizon} steps, conditional: "
          + ", ".join(f"{n_} {table['conditional']['motion'][n_][h]:.3g}" for n_ in table["conditional"]["motion"])
          + f" -> {METRICS / 'evaluate_traj.json'}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
