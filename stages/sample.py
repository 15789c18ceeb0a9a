"""sample@<variant>: persistent-chain sampling from the final model and the historical ensemble.

Outputs: data/samples/<v>/samples.npz (``single``, ``ensemble`` uint8 images and
their labels), plots/images/sample/<v>/{single,ensemble}.png.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from ebm.accel import accelerate, resolve_device, uniform_on
from ebm.sampling import persistent_sample
from stages.common.io import UserError, save_grid, save_npz
from stages.common.main import run_main, variant_parser
from stages.common.models import energy_from_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import images
from stages.common.paths import history_dir, images_dir, model_dir, samples_dir
from stages.common.tracking import stage_run


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def grid_order(y: torch.Tensor | None, n: int, per_class: int = 10) -> torch.Tensor:
    """Indices for a 10x10 grid: one row per asked class (conditional), else the first 100."""
    if y is None:
        return torch.arange(min(n, 100))
    rows = [torch.nonzero(y == c).flatten()[:per_class] for c in torch.unique(y)[:10]]
    return torch.cat(rows)


def main(args) -> None:
    params = load_params(images.SECTIONS)
    variant(params, args.variant)
    persist_cfg, langevin_cfg, accel = params["sample"]
    try:
        device = resolve_device(accel.device)
    except ValueError as e:
        raise UserError(f"sample.{e}") from None
    fix = f"dvc repro train@{args.variant}"
    model, ckpt = energy_from_checkpoint(model_dir(args.variant) / "model.pt", fix)
    history = sorted(history_dir(args.variant).glob("step_*.pt"))
    if not history:
        raise UserError(f"{history_dir(args.variant)}: no history checkpoints for the ensemble; run `{fix}`")
    ensemble = [energy_from_checkpoint(p, fix)[0] for p in history]
    model, ensemble = accelerate(model, accel, device)[1], [accelerate(m, accel, device)[1] for m in ensemble]
    n_classes = ckpt["label_dim"]
    shape = (ckpt["in_channels"], ckpt["image_size"], ckpt["image_size"])
    n = persist_cfg.n_chains
    out, arrays = samples_dir(args.variant), {}
    with stage_run("sample", args.variant, section_params(params, "seed", "sample", variant_name=args.variant)) as run:
        for name, models in (("single", [model]), ("ensemble", ensemble)):
            gen = torch.Generator(device).manual_seed(params["seed"])
            labels = torch.arange(n, device=device) % n_classes if n_classes else None  # balanced classes to start
            bar = tqdm(total=persist_cfg.rounds, desc=f"sample@{args.variant} {name}", unit="round")
            x, y = persistent_sample(models, uniform_on(shape, device, gen), labels, n_classes, langevin_cfg,
                                     persist_cfg, gen, progress=lambda r: bar.update(1))
            bar.close()
            x, y = x.cpu(), (y.cpu() if y is not None else None)
            arrays[name] = to_uint8(x).numpy()
            arrays[f"{name}_labels"] = (y if y is not None else torch.full((n,), -1)).numpy()
            grid = images_dir("sample", args.variant) / f"{name}.png"
            save_grid(grid, x[grid_order(y, n)])
            run.log_artifact(grid)
        save_npz(out / "samples.npz", **arrays)
        run.log_metrics({"n_samples": n, "n_ensemble": len(ensemble)})
    print(f"sample@{args.variant}: {n} samples from the model and a {len(ensemble)}-checkpoint ensemble -> {out}")


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
