"""train@<variant>: Algorithm 1 on the variant's dataset; a checkpoint history for ensembles.

Outputs: models/<v>/model.pt (final), models/<v>/history/step_*.pt (the last K,
``history_every`` apart), metrics/train/<v>.json, plots/train/<v>.csv (curves),
plots/images/train/<v>/negatives.png (the last replay negatives).

A divergence guard rolls back to the last good state with a lower learning rate
(``guard_*`` params); a killed run started again resumes from ``.resume/<v>/``.

Device and speed (``device``, ``amp``, ``channels_last``, ``compile``) and data
parallelism (``nproc``: the stage re-launches itself under torchrun; each rank
has its own batches, chains and replay buffer; rank 0 writes the outputs) are
params of the train section (ebm.accel; docs/speed.md).
"""

from __future__ import annotations

import shutil

import torch
from ebm.accel import accelerate, all_equal, all_mean, rank_seed, uniform_on, wrap_ddp
from ebm.data import dequantize
from ebm.models import build_energy
from ebm.training import DivergenceGuard, Trainer, batch_at
from stages.common.data import load_split
from stages.common.fitting import fit_logged
from stages.common.io import UserError, atomic_path, grid_array, save_grid, save_torch, write_csv
from stages.common.launch import main_rank_run, run_distributed
from stages.common.main import run_main, variant_parser
from stages.common.models import energy_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import images
from stages.common.paths import curve_file, dataset_dir, images_dir, metrics_file, model_dir
from stages.common.resume import ResumeDir, fingerprint


def main(args) -> None:
    params = load_params(images.SECTIONS)
    var = variant(params, args.variant)
    train_cfg, *_, accel, dist_cfg = params["train"]
    x, y, meta = load_split(var.dataset, "train")
    if "sha256" not in meta:  # the resume fingerprint's record of the data
        raise UserError(f"{dataset_dir(var.dataset) / 'meta.json'}: no sha256; run `dvc repro download@{var.dataset}`")
    if train_cfg.batch_size > len(x):  # batch_at needs one whole batch per epoch; checked before any run starts
        raise UserError(f"train.batch_size = {train_cfg.batch_size}: larger than the {len(x)} train images "
                        f"of {var.dataset!r}")
    run_distributed(f"train@{args.variant}", "stages.train", ["--variant", args.variant], args.variant, dist_cfg.nproc,
                    dist_cfg.backend, accel.device, "train",
                    lambda ctx, device: train(args.variant, var, params, x, y, meta, ctx, device))


def train(name, var, params, x, y, meta, ctx, device) -> None:
    train_cfg, langevin_cfg, guard_cfg, loop, accel, _ = params["train"]
    seed = params["seed"]
    labels = y if var.conditional else None
    torch.manual_seed(seed)  # the same initial weights on every rank
    model = build_energy(var.network, meta["shape"][0], meta["n_classes"] if var.conditional else 0, meta["shape"][-1])
    if ctx.world > 1:
        torch.manual_seed(rank_seed(seed, ctx.rank))  # but each rank its own chains, buffer and dropout
    fast, chain = accelerate(model, accel, device)
    trainer = Trainer(wrap_ddp(fast, ctx, device), train_cfg, langevin_cfg, uniform_on(tuple(meta["shape"]), device),
                      chain_model=chain)
    flat = section_params(params, "seed", "train", variant_name=name)
    work = ResumeDir(name if ctx.main else f"{name}.rank{ctx.rank}", fingerprint(flat, meta["sha256"], ctx.world))
    state = work.load()
    if not all_equal(state["step"] if state is not None else 0, ctx, device):  # killed between two ranks' saves
        work.clear()
        work.history.mkdir(parents=True)
        state = None
    effective_batch = train_cfg.batch_size * ctx.world

    with main_rank_run(ctx, "train", name, flat, system_metrics=True) as run:
        run.log_metrics({"effective_batch": effective_batch, "world_size": ctx.world})
        run.log_input(x.numpy(), var.dataset, str(dataset_dir(var.dataset)), meta["sha256"])

        def batch(step):  # rank r takes the batches r, r + world, ...: one stateless sequence, split between ranks
            xb, yb = batch_at(x, labels, train_cfg.batch_size, (step - 1) * ctx.world + ctx.rank, seed)
            return dequantize(xb).to(device), (yb.to(device) if yb is not None else None)

        def history(step):
            if ctx.main:
                save_torch(work.history / f"step_{step:06d}.pt", energy_checkpoint(model, var, meta, step))
                run.log_image(grid_array(trainer.last_negatives[:100].cpu()), "negatives", step)
                for old in sorted(work.history.glob("step_*.pt"))[: -train_cfg.history_size]:
                    old.unlink()

        log = fit_logged(f"train@{name}", trainer, batch, train_cfg.n_iters, run, log_every=loop.log_every,
                         hint="lower train.lr or train.step_size", guard=DivergenceGuard(trainer, guard_cfg),
                         work=work, state=state, resume_every=loop.resume_every,
                         reduce=lambda s: all_mean(s, ctx, device),  # every rank sees the same numbers
                         hooks=[(train_cfg.history_every, history)], show=ctx.main)
        rows, events = log.rows, log.events
        if not ctx.main:
            work.clear()
            return
        finish(name, trainer, work, energy_checkpoint(model, var, meta, train_cfg.n_iters), rows, events, run,
               {"effective_batch": effective_batch, "world_size": ctx.world})
        # the final network, registered, with the history checkpoints the ensemble is rebuilt from
        run.log_model(model, f"igebm-{name}", dequantize(x[:2]).float().numpy())
        run.log_artifacts(model_dir(name) / "history", "history")
    print(f"train@{name}: {train_cfg.n_iters} iterations, {len(events)} rollbacks, batch {effective_batch} "
          f"({ctx.world} x {train_cfg.batch_size}) on {device} -> {model_dir(name)}")


def finish(name, trainer, work, final_ckpt, rows, events, run, scale) -> None:
    """Move the finished run into the stage's outputs, each written atomically."""
    with atomic_path(model_dir(name)) as tmp:
        (tmp / "history").mkdir(parents=True)
        for f in sorted(work.history.glob("step_*.pt")):  # the checkpoints only, never a leftover temporary file
            shutil.copy2(f, tmp / "history" / f.name)
        save_torch(tmp / "model.pt", final_ckpt)
    write_csv(curve_file("train", name), rows)
    grid = images_dir("train", name) / "negatives.png"
    save_grid(grid, trainer.last_negatives[:100].cpu())
    final = rows[-1]
    run.write_metrics(metrics_file("train", name), {
        "final_loss": final["loss"], "final_e_pos": final["e_pos"], "final_e_neg": final["e_neg"],
        "rollbacks": len(events), "n_history": len(list(work.history.glob("step_*.pt"))), **scale,
    })
    run.log_artifact(grid)
    run.log_artifact(model_dir(name) / "model.pt", "checkpoint")
    work.clear()


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
