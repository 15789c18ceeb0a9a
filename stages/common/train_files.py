"""The files of train@: the dataset split it reads, checked; its resume state (``.resume/<v>/``: a killed run
started again resumes there); the history checkpoints; its outputs, each written atomically.

Outputs: models/<v>/model.pt (final), models/<v>/history/step_*.pt (the last ``history_size``,
``history_every`` apart), metrics/train/<v>.json, plots/train/<v>.csv (curves),
plots/images/train/<v>/negatives.png (the last replay negatives); rank 0 writes them all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import torch

from ebm.accel import DistContext, all_equal
from ebm.data import dequantize
from stages.common.data import load_split
from stages.common.io import UserError, atomic_path, grid_array, save_grid, save_torch, write_csv
from stages.common.models import energy_checkpoint
from stages.common.paths import curve_file, dataset_dir, images_dir, metrics_file, model_dir
from stages.common.resume import ResumeDir, fingerprint


def train_split(dataset: str, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(x, y, meta) of the dataset's train split; checked before any run starts."""
    x, y, meta = load_split(dataset, "train")
    if "sha256" not in meta:  # the resume fingerprint's record of the data
        raise UserError(f"{dataset_dir(dataset) / 'meta.json'}: no sha256; run `dvc repro download@{dataset}`")
    if batch_size > len(x):  # batch_at needs one whole batch per epoch
        raise UserError(f"train.batch_size = {batch_size}: larger than the {len(x)} train images of {dataset!r}")
    return x, y, meta


def resume_state(name: str, flat: dict, sha256: str, ctx: DistContext, device) -> tuple[ResumeDir, dict | None]:
    """This rank's resume dir (rank 0: .resume/<v>/, rank r: .resume/<v>.rank<r>/) and the state saved there."""
    work = ResumeDir(name if ctx.main else f"{name}.rank{ctx.rank}", fingerprint(flat, sha256, ctx.world))
    state = work.load()
    if not all_equal(state["step"] if state is not None else 0, ctx, device):  # killed between two ranks' saves
        work.clear()
        work.history.mkdir(parents=True)
        state = None
    return work, state


def history_saver(work: ResumeDir, model, var, meta: dict, trainer, run, keep: int,
                  main: bool) -> Callable[[int], None]:
    """A training hook: rank 0 saves a history checkpoint, logs the replay negatives, keeps the last ``keep``."""

    def history(step):
        if main:
            save_torch(work.history / f"step_{step:06d}.pt", energy_checkpoint(model, var, meta, step))
            run.log_image(grid_array(trainer.last_negatives[:100].cpu()), "negatives", step)
            for old in sorted(work.history.glob("step_*.pt"))[:-keep]:
                old.unlink()

    return history


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


def log_final_model(run, model, name: str, x: torch.Tensor) -> None:
    # the final network, registered, with the history checkpoints the ensemble is rebuilt from
    run.log_model(model, f"igebm-{name}", dequantize(x[:2]).float().numpy())
    run.log_artifacts(model_dir(name) / "history", "history")
