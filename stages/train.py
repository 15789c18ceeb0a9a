"""train@<variant>: Algorithm 1 on the variant's dataset; a checkpoint history for ensembles.

Outputs: models/<v>/model.pt (final), models/<v>/history/step_*.pt (the last K,
``history_every`` apart), metrics/train/<v>.json, plots/train/<v>.csv (curves),
plots/images/train/<v>/negatives.png (the last replay negatives).

A divergence guard rolls back to the last good state with a lower learning rate
(``guard_*`` params); a killed run started again resumes from ``.resume/<v>/``.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict

import torch
from tqdm import tqdm

from ebm.data import dequantize, uniform_like
from ebm.models import build_energy
from ebm.training import DivergenceError, DivergenceGuard, Trainer, batch_at
from stages.common.data import load_split
from stages.common.io import UserError, atomic_path, save_grid, save_torch, write_csv
from stages.common.main import run_main, variant_parser
from stages.common.params import load_params, section_params, variant
from stages.common.paths import curve_file, images_dir, metrics_file, model_dir
from stages.common.resume import ResumeDir, fingerprint
from stages.common.tracking import stage_run


def checkpoint(model, var, meta, step) -> dict:
    """Self-describing: the sample and evaluate stages rebuild the model from this alone."""
    return {
        "model": model.state_dict(), "network": var.network, "in_channels": meta["shape"][0],
        "image_size": meta["shape"][-1], "label_dim": meta["n_classes"] if var.conditional else 0,
        "dataset": var.dataset, "step": step, "variant": asdict(var),
    }


def main(args) -> None:
    params = load_params()
    var = variant(params, args.variant)
    train_cfg, langevin_cfg, guard_cfg, loop = params["train"]
    seed = params["seed"]
    x, y, meta = load_split(var.dataset, "train")
    labels = y if var.conditional else None
    torch.manual_seed(seed)
    model = build_energy(var.network, meta["shape"][0], meta["n_classes"] if var.conditional else 0, meta["shape"][-1])
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(tuple(meta["shape"])))
    flat = section_params(params, "seed", "train", variant_name=args.variant)
    work = ResumeDir(args.variant, fingerprint(flat, meta["sha256"]))
    state = work.load()
    start, rows, events = 0, [], []
    if state is not None:
        trainer.load_state_dict(state["trainer"])
        start, rows, events = state["step"], state["rows"], state["events"]
        print(f"train@{args.variant}: resuming from step {start} ({work.dir})")
    guard = DivergenceGuard(trainer, guard_cfg)
    guard.rollbacks = len(events)

    with stage_run("train", args.variant, flat) as run:
        bar = tqdm(range(start + 1, train_cfg.n_iters + 1), initial=start, total=train_cfg.n_iters,
                   desc=f"train@{args.variant}", unit="it")
        for step in bar:
            xb, yb = batch_at(x, labels, train_cfg.batch_size, step - 1, seed)
            stats = trainer.step(dequantize(xb), yb)
            try:
                event = guard.check(step, stats)
            except DivergenceError as e:
                raise UserError(f"train@{args.variant}: {e}; lower train.lr or train.step_size") from None
            if event is not None:
                events.append(event)
                run.log_metrics({"rollbacks": event["rollbacks"], "lr": event["lr"]}, step=step)
                tqdm.write(f"train@{args.variant}: diverged at step {step} ({event['why']}); rolled back to step "
                           f"{event['rolled_back_to']}, lr -> {event['lr']:.3g}")
                continue
            if step % loop.log_every == 0 or step == train_cfg.n_iters:
                rows.append({"step": step, **stats})
                run.log_metrics(stats, step=step)
                bar.set_postfix(loss=f"{stats['loss']:.4f}", e_pos=f"{stats['e_pos']:.3f}", e_neg=f"{stats['e_neg']:.3f}")
            if step % train_cfg.history_every == 0:
                save_torch(work.history / f"step_{step:06d}.pt", checkpoint(model, var, meta, step))
                for old in sorted(work.history.glob("step_*.pt"))[: -train_cfg.history_size]:
                    old.unlink()
            if step % loop.resume_every == 0:
                work.save({"trainer": trainer.state_dict(), "step": step, "rows": rows, "events": events})
        finish(args.variant, trainer, work, checkpoint(model, var, meta, train_cfg.n_iters), rows, events, run)
    print(f"train@{args.variant}: {train_cfg.n_iters} iterations, {len(events)} rollbacks -> {model_dir(args.variant)}")


def finish(name, trainer, work, final_ckpt, rows, events, run) -> None:
    """Move the finished run into the stage's outputs, each written atomically."""
    with atomic_path(model_dir(name)) as tmp:
        shutil.copytree(work.history, tmp / "history")
        save_torch(tmp / "model.pt", final_ckpt)
    write_csv(curve_file("train", name), rows)
    grid = images_dir("train", name) / "negatives.png"
    save_grid(grid, trainer.last_negatives[:100])
    final = rows[-1]
    run.write_metrics(metrics_file("train", name), {
        "final_loss": final["loss"], "final_e_pos": final["e_pos"], "final_e_neg": final["e_neg"],
        "rollbacks": len(events), "n_history": len(list(work.history.glob("step_*.pt"))),
    })
    run.log_artifact(grid)
    run.log_artifact(model_dir(name) / "model.pt", "checkpoint")
    work.clear()


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
