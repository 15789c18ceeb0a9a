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
from tqdm import tqdm

from ebm.training import CURVE_KEYS, DivergenceGuard, Trainer, batch_at
from ebm.trajectories.baselines import train_fc, train_lstm
from ebm.trajectories.data import Coder, memory_pairs, next_step_pairs, windows
from ebm.trajectories.models import build_trajectory_model
from ebm.trajectories.rollout import chain_start, window_starts
from stages.common.fitting import fit_logged
from stages.common.io import UserError, save_torch, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common import trajectories
from stages.common.paths import METRICS, PLOTS, trajectories_dir, trajectory_model
from stages.common.resume import ResumeDir, fingerprint
from stages.common.tracking import stage_run
from stages.common.trajectories import MODELS_ALL, checkpoint, load_trajectories


def train_ebm(name, model, x, y, coder, cfg, seed, key, run) -> tuple[list[dict], list[dict], ResumeDir]:
    """Algorithm 1 on vectors x [M, d] (labels y [M, L] or None), with the guard and resume.
    Returns (curve rows, rollback events, the resume dir to clear once the outputs are written)."""
    net, train_cfg, langevin_cfg, chain, guard_cfg, loop = cfg
    batch = {}  # the current positives: the window EBM's chains start from them
    if name == "ebm_cond":
        init = lambda n: chain_start(chain, coder, n)  # noqa: E731
    else:
        init = lambda n: window_starts(chain, coder, batch["x"])  # noqa: E731
    trainer = Trainer(model, train_cfg, langevin_cfg, init, quantize_buffer=False)
    bs = min(train_cfg.batch_size, len(x))
    work = ResumeDir(f"trajectories/{name}", key)

    def next_batch(step):
        batch["x"], yb = batch_at(x, y, bs, step - 1, seed)
        return batch["x"], yb

    log = fit_logged(f"train_traj@{name}", trainer, next_batch, train_cfg.n_iters, run, log_every=loop.log_every,
                     hint=f"lower trajectory.{name}.lr or trajectory.{name}.step_size",
                     guard=DivergenceGuard(trainer, guard_cfg), work=work, state=work.load(),
                     resume_every=loop.resume_every, keys=CURVE_KEYS)
    return log.rows, log.events, work


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
        if name in ("ebm_cond", "fc"):
            memory = cfg[0].memory_frames if name == "ebm_cond" else 0
            if memory:  # each pair also sees older states (ebm.trajectories.data.memory_pairs)
                ctx, mem, nxt = memory_pairs(states, k, memory, cfg[0].memory_reach, generator=gen)
            else:
                ctx, nxt = next_step_pairs(states, k)
            x, y = coder.steps(nxt)[:, 0], coder.context(ctx)  # next step [M, D], context [M, k*D]
            if memory:
                y = torch.cat([y, coder.context(mem)], 1)
            if name == "ebm_cond":
                if cfg[3].space == "move":  # the authors' chain space: z[t+1] - z[t]
                    x = coder.moves(nxt)[:, 0]
                rows, events, work = train_ebm(name, model, x, y, coder, cfg, seed, key, run)
                example = (x[:2].numpy(), y[:2].numpy())
            else:
                rows = train_regression(name, lambda log: train_fc(model, y, x, cfg[1], gen, log), cfg, run)
        elif name == "ebm_uncond":
            x = coder.window(windows(states, k + 1))
            rows, events, work = train_ebm(name, model, x, None, coder, cfg, seed, key, run)
            example = (x[:2].numpy(), None)
        else:  # lstm: every prefix of every trajectory predicts the step after it
            z, d = coder.states(states[:, :-1]), coder.steps(states)
            rows = train_regression(name, lambda log: train_lstm(model, z, d, cfg[1], gen, log), cfg, run)
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
