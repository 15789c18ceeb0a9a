"""How train_traj@<model> trains and saves one trajectory model: the EBMs by Algorithm 1, the baselines by
MSE regression, each with its curves in MLflow; then the checkpoint, the curve CSV and the final metrics.

The EBMs train as the images do (stages/train.py): stateless batches (``batch_at``), the divergence guard
(rolls back to the last good state with a lower learning rate), and a resume state in
``.resume/trajectories/<model>/`` every ``resume_every`` steps, so a killed run started again goes on from
there.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import torch

from ebm.training import CURVE_KEYS, DivergenceGuard
from ebm.trajectories.baselines import train_fc, train_lstm
from ebm.trajectories.training import ebm_training
from stages.common.fitting import fit_logged, fit_regression_logged
from stages.common.io import UserError, save_torch, write_csv
from stages.common.params import section_params
from stages.common.paths import METRICS, PLOTS, trajectories_dir, trajectory_model
from stages.common.resume import ResumeDir, fingerprint
from stages.common.trajectories import checkpoint, load_trajectories


def training_states(name: str, top) -> torch.Tensor:
    """The recorded training states [N, T+1, D]; refuses a model not in ``trajectory.models`` and
    trajectories too short for ``trajectory.context`` (``top``: the trajectory section's top keys)."""
    if name not in top.models:
        raise UserError(f"trajectory.models: {name!r} is not listed (listed: {', '.join(top.models)})")
    states = load_trajectories()[0]["train"]  # [N, T+1, D]
    if states.shape[1] < top.context + 2:
        raise UserError(f"trajectory.context = {top.context}: trajectories have only {states.shape[1]} states; "
                        "lower it or raise record.length")
    return states


def run_params(params: dict, name: str) -> tuple[dict, str, str]:
    """(the params of train_traj@name as dvc.yaml declares them, sha256 of the recording, the resume key)."""
    flat = {k: v for k, v in section_params(params, "seed", "trajectory").items()
            if k == "seed" or k.startswith((f"trajectory.{name}.", "trajectory.context"))}
    data_hash = hashlib.sha256((trajectories_dir() / "trajectories.npz").read_bytes()).hexdigest()
    return flat, data_hash, fingerprint(flat, data_hash)  # a resume state from other settings or data is discarded


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


def train(name, model, x, y, coder, cfg, seed, key, gen, run) -> tuple[list[dict], list, ResumeDir | None]:
    """``model`` trained on the training set x, y: (curve rows, rollbacks, the resume dir to clear once the
    outputs are written); the baselines (fc, lstm) have neither rollbacks nor a resume dir."""
    if name.startswith("ebm"):
        return train_ebm(name, model, x, y, coder, cfg, seed, key, run)
    fit = train_fc if name == "fc" else train_lstm
    rows = fit_regression_logged(f"train_traj@{name}", lambda log: fit(model, y, x, cfg[1], gen, log),
                                 cfg[1].n_iters, cfg[2].log_every, run, f"lower trajectory.{name}.lr")
    return rows, [], None


def save_trained(name, model, coder, k: int, cfg, rows: list[dict], events: list, run) -> dict:
    """Writes models/trajectories/<name>/model.pt, plots/train_traj/<name>.csv and
    metrics/train_traj/<name>.json; the final curve values."""
    # rollouts sample as training did: the same Langevin settings and chain starts
    extra = {"langevin": asdict(cfg[2]), "chain": asdict(cfg[3])} if name.startswith("ebm") else {}
    save_torch(trajectory_model(name) / "model.pt", checkpoint(name, model, coder, k, cfg[0], extra))
    write_csv(PLOTS / "train_traj" / f"{name}.csv", rows)
    final = {k_: v for k_, v in rows[-1].items() if k_ != "step"}
    extra_metrics = {"rollbacks": len(events)} if name.startswith("ebm") else {}
    run.write_metrics(METRICS / "train_traj" / f"{name}.json",
                      {**{f"final_{k_}": v for k_, v in final.items()}, **extra_metrics})
    return final
