"""train_traj@<model>: one hand-trajectory model on the recorded training split.

ebm_cond   conditional EBM E(next step | last k states, older states: its memory), Algorithm 1,
           Langevin in standardised step space, chains started as ``trajectory.ebm_cond.start``
ebm_uncond window EBM E(k+1 states), the same Algorithm 1 over window coordinates
fc, lstm   baselines: next step by MSE regression

How each trains (the guard, the resume state): stages/common/trajectory_training.py. Outputs:
models/trajectories/<model>/model.pt (self-describing, with the state coder),
metrics/train_traj/<model>.json, plots/train_traj/<model>.csv.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch

from ebm.trajectories.data import Coder
from ebm.trajectories.models import build_trajectory_model
from ebm.trajectories.training_sets import training_set
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.paths import trajectories_dir, trajectory_model
from stages.common.sections import trajectories
from stages.common.sections.trajectories import MODELS_ALL
from stages.common.tracking import stage_run
from stages.common.trajectory_training import run_params, save_trained, train, training_states


def main(args) -> None:
    params = load_params(trajectories.SECTIONS)
    sec = params["trajectory"]
    name, k = args.model, sec["top"].context
    states = training_states(name, sec["top"])
    cfg = sec[name]
    seed = params["seed"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    coder = Coder.fit(states)
    model = build_trajectory_model(name, coder.dim, k, asdict(cfg[0]))
    flat, data_hash, key = run_params(params, name)
    with stage_run("train_traj", name, flat, system_metrics=True) as run:
        run.log_input(states.numpy(), "hand_trajectories", str(trajectories_dir()), data_hash)
        model_cfg = (cfg[0], cfg[3]) if name == "ebm_cond" else ()  # its memory and chain space
        x, y = training_set(name, states, k, coder, *model_cfg, generator=gen)
        rows, events, work = train(name, model, x, y, coder, cfg, seed, key, gen, run)
        final = save_trained(name, model, coder, k, cfg, rows, events, run)
        if work is not None:  # an EBM: registered in MLflow, then its resume state cleared (the outputs are written)
            run.log_model(model, f"igebm-traj-{name}", x[:2].numpy(), None if y is None else y[:2].numpy())
            work.clear()
    print(f"train_traj@{name}: " + ", ".join(f"{k_}={v:.4g}" for k_, v in final.items())
          + f" -> {trajectory_model(name)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=MODELS_ALL)
    run_main(main, parser)
