"""train@<variant>: Algorithm 1 on the variant's dataset; a checkpoint history for ensembles.

Outputs and resume state: stages/common/train_files.py. A divergence guard rolls back with a lower learning
rate (``guard_*``); device, speed and data parallelism (``nproc``: torchrun) are train params (docs/speed.md).
"""

from __future__ import annotations

from ebm.accel import all_mean
from ebm.training import DivergenceGuard
from ebm.training.data_parallel import rank_batches, rank_trainer
from stages.common.fitting import fit_logged
from stages.common.launch import main_rank_run, run_distributed
from stages.common.main import run_main, variant_parser
from stages.common.models import energy_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import images
from stages.common.paths import dataset_dir, model_dir
from stages.common.train_files import finish, history_saver, log_final_model, resume_state, train_split


def main(args) -> None:
    params = load_params(images.SECTIONS)
    var = variant(params, args.variant)
    train_cfg, *_, accel, dist_cfg = params["train"]
    x, y, meta = train_split(var.dataset, train_cfg.batch_size)
    run_distributed(f"train@{args.variant}", "stages.train", ["--variant", args.variant], args.variant, dist_cfg.nproc,
                    dist_cfg.backend, accel.device, "train",
                    lambda ctx, device: train(args.variant, var, params, x, y, meta, ctx, device))


def train(name, var, params, x, y, meta, ctx, device) -> None:
    train_cfg, langevin_cfg, guard_cfg, loop, accel, _ = params["train"]
    model, trainer = rank_trainer(var.network, tuple(meta["shape"]), meta["n_classes"] if var.conditional else 0,
                                  params["seed"], ctx, accel, device, train_cfg, langevin_cfg)
    flat = section_params(params, "seed", "train", variant_name=name)
    work, state = resume_state(name, flat, meta["sha256"], ctx, device)
    scale = {"effective_batch": train_cfg.batch_size * ctx.world, "world_size": ctx.world}
    with main_rank_run(ctx, "train", name, flat, system_metrics=True) as run:
        run.log_metrics(scale)
        run.log_input(x.numpy(), var.dataset, str(dataset_dir(var.dataset)), meta["sha256"])
        batch = rank_batches(x, y if var.conditional else None, train_cfg.batch_size, params["seed"], ctx, device)
        history = history_saver(work, model, var, meta, trainer, run, train_cfg.history_size, ctx.main)
        log = fit_logged(f"train@{name}", trainer, batch, train_cfg.n_iters, run, log_every=loop.log_every,
                         hint="lower train.lr or train.step_size", guard=DivergenceGuard(trainer, guard_cfg),
                         work=work, state=state, resume_every=loop.resume_every,
                         reduce=lambda s: all_mean(s, ctx, device),  # every rank sees the same numbers
                         hooks=[(train_cfg.history_every, history)], show=ctx.main)
        if not ctx.main:
            work.clear()
            return
        final = energy_checkpoint(model, var, meta, train_cfg.n_iters)
        finish(name, trainer, work, final, log.rows, log.events, run, scale)
        log_final_model(run, model, name, x)
    print(f"train@{name}: {train_cfg.n_iters} iterations, {len(log.events)} rollbacks, "
          f"batch {scale['effective_batch']} ({ctx.world} x {train_cfg.batch_size}) on {device} -> {model_dir(name)}")


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
