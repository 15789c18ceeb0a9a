"""evaluate_traj: Fréchet distance of generated to held-out hand trajectories (Figure 13), rendered rollouts (Figure 12).

The protocol (settings, starts, scoring, reference rows) is ebm.trajectories.evaluate.run; this stage loads
the recording and the trained models, runs it and writes metrics/evaluate_traj.json,
plots/evaluate_traj/<setting>_<feature>.csv, plots/images/evaluate_traj/{figure12,figure13}.png and every
model's rollouts as arrays, data/rollouts/<model>.npz (the format: stages/common/rollouts.py).
"""

from __future__ import annotations

import argparse

import torch

from ebm.trajectories.evaluate import run
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import DATA, METRICS, PLOTS
from stages.common.rollouts import check_horizon, save_rollouts, trained
from stages.common.sections import trajectories
from stages.common.tracking import stage_run
from stages.common.trajectories import load_trajectories
from stages.common.trajectory_figures import log_figures, write_fd_tables

IMAGES = PLOTS / "images" / "evaluate_traj"
ROLLOUTS = DATA / "rollouts"


def main(args) -> None:
    params = load_params(trajectories.SECTIONS)
    sec = params["trajectory"]
    cfg, render = sec["evaluate"]
    k, names, seed = sec["top"].context, sec["top"].models, params["seed"]
    data, meta = load_trajectories()
    horizon = max(cfg.horizons)
    check_horizon(data["test"], k, horizon)
    torch.manual_seed(seed)
    models = [trained(name, k) for name in names]
    result = run(models, data["train"], data["test"], k, cfg, torch.Generator().manual_seed(seed))
    table = result.table
    write_fd_tables(table, cfg.horizons, PLOTS / "evaluate_traj")
    save_rollouts(result, horizon, ROLLOUTS)
    flat = {k_: v for k_, v in section_params(params, "seed", "trajectory").items()
            if k_ == "seed" or k_.startswith(("trajectory.evaluate.", "trajectory.context", "trajectory.models"))}
    with stage_run("evaluate_traj", None, flat) as mlflow_run:
        n_starts = len(result.real)
        mlflow_run.write_metrics(METRICS / "evaluate_traj.json", {**table, "n_starts": n_starts,
                                                                 "horizons": list(cfg.horizons)})
        log_figures(mlflow_run, result, cfg.horizons, render, meta["env_id"], len(data["test"]), IMAGES)
    h = f"h{horizon}"
    print(f"evaluate_traj: {n_starts} held-out starts; motion FD at {horizon} steps, conditional: "
          + ", ".join(f"{n_} {table['conditional']['motion'][n_][h]:.3g}" for n_ in table["conditional"]["motion"])
          + f" -> {METRICS / 'evaluate_traj.json'}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
