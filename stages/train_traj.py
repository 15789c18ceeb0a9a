"""train_traj@<model>: one hand-trajectory model on the recorded training split.

ebm_cond   conditional EBM E(next step | last k states, older states: its memory), Algorithm 1
           (ebm.training.Trainer): Langevin in standardised step space, chains started as
           ``trajectory.ebm_cond.start``
ebm_uncond window EBM E(k+1 states), the same Algorithm 1 over window coordinates
fc, lstm   baselines: next step by MSE regression

The EBMs train as the images do (stages/train.py): stateless batches (``batch_at``), the
divergence guard (rolls back to the last good state with a lower learning rate), and a
resume state in ``.resume/trajectories/<model>/`` every ``resume_every`` steps, so a killed
run started again goes on from there.

Outputs: models/trajectories/<model>/model.pt (self-describing, with the state
coder), metrics/train_traj/<model>.json, plots/train_traj/<model>.csv.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import asdict

import torch

from ebm.training import CURVE_KEYS, DivergenceGuard
from ebm.trajectories.baselines import train_fc, train_lstm
from ebm.trajectories.data import Coder
from ebm.trajectories.models import build_trajectory_model
from ebm.trajectories.training import ebm_training
from ebm.trajectories.training_sets import training_set
from stages.common.fitting import fit_logged, fit_regression_logged
from stages.common.io import UserError, save_torch, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import trajectories
from stages.common.paths import METRICS, PLOTS, trajectories_dir, trajectory_model
from stages.common.resume import ResumeDir, fingerprint
from stages.common.tracking import stage_run
from stages.common.sections.trajectories import MODELS_ALL
from stages.common.trajectories import checkpoint, load_trajectories


def train_ebm(name, model, x, y, coder, cfg, seed, key, run):
    """Algorithm 1 (ebm.trajectories.training) with the guard and a resume state; (curve rows, rollbacks,
    the resume dir to clear once the outputs are written)."""
    _, train_cfg, langevin_cfg, chain, guard_cfg, loop = cfg
    trainer, batch = ebm_training(name, model, coder, train_cfg, langevin_cfg, chain, x, y, seed)
    work = ResumeDir(f"trajectories/{name}", key)
    log = fit_logged(f"train_traj@{name}", trainer, batch, train_cfg.n_iters, run, log_every=loop.log_every,
                     hint=f"lower trajectory.{name}.lr or trajectory.{name}.step_size",
                     guard=DivergenceGuard(trainer, guard_cfg), work=work, state=work.load(),
                     resume_every=loop.resume_every, keys=CURVE_KEYS)
    return log.rows, log.events, work


def main(args) -> None:
    params = load_params(trajectories.SECTIONS)
    sec = params["trajectory"]
    name, k = args.model, sec["top"].context
    if name not in sec["top"].models:
        raise UserError(f"trajectory.models: {name!r} is not listed (listed: {', '.join(sec['top'].models)})")
    cfg = sec[name]
    states = load_trajectories()[0]["train"]  # [N, T+1, D]
    if states.shape[1] < k + 2:
        raise UserError(f"trajectory.context = {k}: trajectories have only {states.shape[1]} states; "
                        "lower it or raise record.length")
    seed = params["seed"]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    coder = Coder.fit(states)
    model = build_trajectory_model(name, coder.dim, k, asdict(cfg[0]))
    flat = {k_: v for k_, v in section_params(params, "seed", "trajectory").items()  # what dvc.yaml declares
            if k_ == "seed" or k_.startswith((f"trajectory.{name}.", "trajectory.context"))}
    data_hash = hashlib.sha256((trajectories_dir() / "trajectories.npz").read_bytes()).hexdigest()
    key = fingerprint(flat, data_hash)  # a resume state from other settings or data is discarded
    with stage_run("train_traj", name, flat, system_metrics=True) as run:
        run.log_input(states.numpy(), "hand_trajectories", str(trajectories_dir()), data_hash)
        work, events, example = None, [], None
        model_cfg = (cfg[0], cfg[3]) if name == "ebm_cond" else ()  # its memory and chain space
        x, y = training_set(name, states, k, coder, *model_cfg, generator=gen)
        if name.startswith("ebm"):
            rows, events, work = train_ebm(name, model, x, y, coder, cfg, seed, key, run)
            example = (x[:2].numpy(), None if y is None else y[:2].numpy())
        else:
            fit = train_fc if name == "fc" else train_lstm
            rows = fit_regression_logged(f"train_traj@{name}", lambda log: fit(model, y, x, cfg[1], gen, log),
                                         cfg[1].n_iters, cfg[2].log_every, run, f"lower trajectory.{name}.lr")
        # rollouts sample as training did: the same Langevin settings and chain starts
        extra = {"langevin": asdict(cfg[2]), "chain": asdict(cfg[3])} if name.startswith("ebm") else {}
        save_torch(trajectory_model(name) / "model.pt", checkpoint(name, model, coder, k, cfg[0], extra))
        write_csv(PLOTS / "train_traj" / f"{name}.csv", rows)
        final = {k_: v for k_, v in rows[-1].items() if k_ != "step"}
        extra_metrics = {"rollbacks": len(events)} if name.startswith("ebm") else {}
        run.write_metrics(METRICS / "train_traj" / f"{name}.json",
                          {**{f"final_{k_}": v for k_, v in final.items()}, **extra_metrics})
        if example is not None:
            run.log_model(model, f"igebm-traj-{name}", *example)
        if work is not None:
            work.clear()  # finished: the outputs are written
    print(f"train_traj@{name}: " + ", ".join(f"{k_}={v:.4g}" for k_, v in final.items())
          + f" -> {trajectory_model(name)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=MODELS_ALL)
    run_main(main, parser)
