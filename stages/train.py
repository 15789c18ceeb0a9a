"""train@<variant>: Algorithm 1 on the variant's dataset; a checkpoint history for ensembles.

Outputs: models/<v>/model.pt (final), models/<v>/history/step_*.pt (the last K,
``history_every`` apart), metrics/train/<v>.json, plots/train/<v>.csv (curves),
plots/images/train/<v>/negatives.png (the last replay negatives).
"""

from __future__ import annotations

from dataclasses import asdict

import torch
from tqdm import tqdm

from ebm.data import dequantize, uniform_like
from ebm.models import build_energy
from ebm.training import Trainer, random_batches
from stages.common.data import load_split
from stages.common.io import atomic_path, save_grid, save_torch, write_csv
from stages.common.main import run_main, variant_parser
from stages.common.params import load_params, section_params, variant
from stages.common.paths import curve_file, history_dir, images_dir, metrics_file, model_dir
from stages.common.tracking import stage_run


def checkpoint(model, var, meta, step) -> dict:
    return {
        "model": model.state_dict(), "network": var.network, "in_channels": meta["shape"][0],
        "image_size": meta["shape"][-1], "label_dim": meta["n_classes"] if var.conditional else 0,
        "dataset": var.dataset, "step": step, "variant": asdict(var),
    }


def main(args) -> None:
    params = load_params()
    var = variant(params, args.variant)
    train_cfg, langevin_cfg, log_cfg = params["train"]
    torch.manual_seed(params["seed"])
    x, y, meta = load_split(var.dataset, "train")
    labels = y if var.conditional else None
    model = build_energy(var.network, meta["shape"][0], meta["n_classes"] if var.conditional else 0, meta["shape"][-1])
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(tuple(meta["shape"])))
    batches = random_batches(x, labels, train_cfg.batch_size)
    out = model_dir(args.variant)
    with stage_run("train", args.variant, section_params(params, "seed", "train", variant_name=args.variant)) as run:
        train_into(trainer, batches, out, run, var, meta, train_cfg, log_cfg, args.variant)
        run.log_artifact(images_dir("train", args.variant) / "negatives.png")
        run.log_artifact(out / "model.pt", "checkpoint")
    print(f"train@{args.variant}: {train_cfg.n_iters} iterations -> {out}/model.pt")


def train_into(trainer, batches, out, run, var, meta, train_cfg, log_cfg, name) -> None:
    """The training loop; writes the model directory atomically."""
    model, rows, kept = trainer.model, [], []
    with atomic_path(out) as tmp:
        (tmp / "history").mkdir(parents=True)
        bar = tqdm(range(1, train_cfg.n_iters + 1), desc=f"train@{name}", unit="it")
        for step in bar:
            xb, yb = next(batches)
            stats = trainer.step(dequantize(xb), yb)
            if step % log_cfg.log_every == 0 or step == train_cfg.n_iters:
                rows.append({"step": step, **stats})
                run.log_metrics(stats, step=step)
                bar.set_postfix(loss=f"{stats['loss']:.4f}", e_pos=f"{stats['e_pos']:.3f}", e_neg=f"{stats['e_neg']:.3f}")
            if step % train_cfg.history_every == 0:
                path = tmp / "history" / f"step_{step:06d}.pt"
                save_torch(path, checkpoint(model, var, meta, step))
                kept.append(path)
                if len(kept) > train_cfg.history_size:
                    kept.pop(0).unlink()
        save_torch(tmp / "model.pt", checkpoint(model, var, meta, train_cfg.n_iters))
        write_csv(curve_file("train", name), rows)
        grid = images_dir("train", name) / "negatives.png"
        save_grid(grid, trainer.last_negatives[:100])
        final = rows[-1]
        run.write_metrics(metrics_file("train", name), {
            "final_loss": final["loss"], "final_e_pos": final["e_pos"], "final_e_neg": final["e_neg"],
            "n_history": len(kept),
        })


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
