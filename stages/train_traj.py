"""train_traj@<model>: one hand-trajectory model on the recorded training split.

ebm_cond   conditional EBM E(next step | last k states), Algorithm 1 (ebm.training.Trainer):
           Langevin in standardised step space from N(0, 1), float replay buffer, spectral norm
ebm_uncond window EBM E(k+1 states), the same Algorithm 1 over window coordinates
fc, lstm   baselines: next step by MSE regression

Outputs: models/trajectories/<model>/model.pt (self-describing, with the state
coder), metrics/train_traj/<model>.json, plots/train_traj/<model>.csv.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict

import torch
from tqdm import tqdm

from ebm.training import Trainer, random_batches
from ebm.trajectories import Coder, next_step_pairs, train_fc, train_lstm, windows
from stages.common.io import UserError, save_torch, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import METRICS, PLOTS, trajectory_model
from stages.common.tracking import stage_run
from stages.common.trajectories import MODELS_ALL, build_model, checkpoint, load_trajectories


def train_ebm(name, model, x, y, cfg, run) -> list[dict]:
    """Algorithm 1 on vectors x [M, d] (labels y [M, L] or None); fresh chains from N(0, 1)."""
    net, train_cfg, langevin_cfg, loop = cfg
    trainer = Trainer(model, train_cfg, langevin_cfg, lambda n: torch.randn(n, x.shape[1]), quantize_buffer=False)
    batches = random_batches(x, y, min(train_cfg.batch_size, len(x)))
    rows = []
    bar = tqdm(range(1, train_cfg.n_iters + 1), desc=f"train_traj@{name}", unit="it")
    for step in bar:
        xb, yb = next(batches)
        stats = trainer.step(xb, yb)
        if not all(math.isfinite(stats[k]) for k in ("loss", "e_pos", "e_neg")):
            raise UserError(f"train_traj@{name}: training diverged at step {step} (loss {stats['loss']:.3g}); "
                            f"lower trajectory.{name}.lr or trajectory.{name}.step_size")
        if step % loop.log_every == 0 or step == train_cfg.n_iters:
            row = {"step": step, **{k: stats[k] for k in ("loss", "e_pos", "e_neg")}}
            rows.append(row)
            run.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
            bar.set_postfix(loss=f"{stats['loss']:.4f}", e_pos=f"{stats['e_pos']:.3f}", e_neg=f"{stats['e_neg']:.3f}")
    return rows


def train_regression(name, fit, cfg, run) -> list[dict]:
    """``fit(log)`` runs the MSE loop; rows keep the mean loss of each ``log_every`` block."""
    _, reg, loop = cfg
    rows, acc = [], []
    bar = tqdm(total=reg.n_iters, desc=f"train_traj@{name}", unit="it")

    def log(step: int, loss: float) -> None:
        acc.append(loss)
        bar.update(1)
        if step % loop.log_every == 0 or step == reg.n_iters:
            rows.append({"step": step, "loss": sum(acc) / len(acc)})
            acc.clear()
            run.log_metrics({"loss": rows[-1]["loss"]}, step=step)
            bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}")

    try:
        fit(log)
    except FloatingPointError as e:
        raise UserError(f"train_traj@{name}: training diverged ({e}); lower trajectory.{name}.lr") from None
    bar.close()
    return rows


def main(args) -> None:
    params = load_params()
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
    model = build_model(name, coder.dim, k, asdict(cfg[0]))
    flat = {k_: v for k_, v in section_params(params, "seed", "trajectory").items()  # what dvc.yaml declares
            if k_ == "seed" or k_.startswith((f"trajectory.{name}.", "trajectory.context"))}
    with stage_run("train_traj", name, flat) as run:
        if name in ("ebm_cond", "fc"):
            ctx, nxt = next_step_pairs(states, k)
            x, y = coder.steps(nxt)[:, 0], coder.context(ctx)  # next step [M, D], context [M, k*D]
            if name == "ebm_cond":
                rows = train_ebm(name, model, x, y, cfg, run)
            else:
                rows = train_regression(name, lambda log: train_fc(model, y, x, cfg[1], gen, log), cfg, run)
        elif name == "ebm_uncond":
            rows = train_ebm(name, model, coder.window(windows(states, k + 1)), None, cfg, run)
        else:  # lstm: every prefix of every trajectory predicts the step after it
            z, d = coder.states(states[:, :-1]), coder.steps(states)
            rows = train_regression(name, lambda log: train_lstm(model, z, d, cfg[1], gen, log), cfg, run)
        extra = {"langevin": asdict(cfg[2])} if name.startswith("ebm") else {}  # rollouts sample as training did
        save_torch(trajectory_model(name) / "model.pt", checkpoint(name, model, coder, k, cfg[0], extra))
        write_csv(PLOTS / "train_traj" / f"{name}.csv", rows)
        final = {k_: v for k_, v in rows[-1].items() if k_ != "step"}
        run.write_metrics(METRICS / "train_traj" / f"{name}.json", {f"final_{k_}": v for k_, v in final.items()})
    print(f"train_traj@{name}: " + ", ".join(f"{k_}={v:.4g}" for k_, v in final.items())
          + f" -> {trajectory_model(name)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=MODELS_ALL)
    run_main(main, parser)
