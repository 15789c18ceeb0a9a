"""fid@<variant>: FID, Inception Score and KID of a variant's samples with the standard Inception network.

Only where params ask for it: ``fid.variants`` maps variant -> dataset and is
empty by default, so the default pipeline has no fid stage; the paper configs
(configs/paper/*.yaml) fill it in. Samples follow the original's protocol
(ebm.imagemetrics.protocol: persistent 1,000-chain buffers, 1% resets, 10%
relabels, 50,000 images); the reference set is the dataset's train + test
images (CIFAR-10: all 60,000, as the original) or, for ImageNet, the validation set.

Outputs: metrics/fid/<v>.json, data/fid_samples/<v>/samples.npz,
plots/images/fid/<v>/<model>.png.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from ebm.accel import accelerate, resolve_device, uniform_on
from ebm.imagemetrics import extract, image_scores, protocol_samples
from stages.common.data import load_split
from stages.common.fid import inception_network
from stages.common.io import UserError, save_grid, save_npz
from stages.common.main import run_main, variant_parser
from stages.common.models import energy_from_checkpoint
from stages.common.params import load_params, section_params, variant
from stages.common.sections import fid as fid_params
from stages.common.sections import images
from stages.common.paths import fid_samples_dir, history_dir, images_dir, metrics_file, model_dir
from stages.common.tracking import stage_run


def reference_images(dataset: str, which: str, n: int, seed: int) -> torch.Tensor:
    """uint8 images of ``dataset`` (train + test, or test only); ``n`` > 0 keeps a random n of them."""
    splits = ("train", "test") if which == "all" else ("test",)
    x = torch.cat([load_split(dataset, s)[0] for s in splits])
    if n and n < len(x):
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]
    return x


def features(net, images, score_cfg, device, what):
    with tqdm(total=len(images), desc=what, unit="img") as bar:
        return extract(net, images, score_cfg.batch_size, device, progress=bar.update)


def main(args) -> None:
    params = load_params(images.SECTIONS, fid_params.SECTIONS)
    var = variant(params, args.variant)
    variants, cfg, score_cfg, persist_cfg, langevin_cfg, accel = params["fid"]
    if args.variant not in variants:
        raise UserError(f"fid.variants: {args.variant!r} is not listed (listed: {', '.join(variants) or 'none'})")
    try:
        device = resolve_device(accel.device)
    except ValueError as e:
        raise UserError(f"fid.{e}") from None
    net = inception_network(cfg.inception_weights).to(device)  # first: a missing network fails at once
    fix = f"dvc repro train@{args.variant}"
    model, ckpt = energy_from_checkpoint(model_dir(args.variant) / "model.pt", fix)
    history = sorted(history_dir(args.variant).glob("step_*.pt"))
    if "ensemble" in cfg.models and not history:
        raise UserError(f"{history_dir(args.variant)}: no history checkpoints for the ensemble; run `{fix}`")
    n_classes = ckpt["label_dim"]
    shape = (ckpt["in_channels"], ckpt["image_size"], ckpt["image_size"])
    seed = params["seed"]
    scores, arrays = {}, {}
    with stage_run("fid", args.variant, section_params(params, "seed", "fid", variant_name=args.variant)) as run:
        real, _ = features(net, reference_images(var.dataset, cfg.reference, cfg.n_reference, seed), score_cfg, device,
                           f"fid@{args.variant} reference")
        for name in cfg.models:
            nets = [model] if name == "single" else [energy_from_checkpoint(p, fix)[0] for p in history]
            chains = [accelerate(m, accel, device)[1] for m in nets]
            gen = torch.Generator(device).manual_seed(seed)
            with tqdm(total=cfg.n_images, desc=f"fid@{args.variant} {name} samples", unit="img") as bar:
                x, y = protocol_samples(chains, uniform_on(shape, device, gen), n_classes, cfg.n_images, langevin_cfg,
                                        persist_cfg, gen, device, progress=bar.update)
            fake, logits = features(net, x, score_cfg, device, f"fid@{args.variant} {name} features")
            scores[name] = image_scores(real, fake, logits, score_cfg, seed)
            arrays[name] = x.numpy()
            if y is not None:
                arrays[f"{name}_labels"] = y.numpy()
            grid = images_dir("fid", args.variant) / f"{name}.png"
            save_grid(grid, x[:100].float() / 255, scale=max(1, 64 // shape[-1]))
            run.log_artifact(grid)
        save_npz(fid_samples_dir(args.variant) / "samples.npz", **arrays)
        run.write_metrics(metrics_file("fid", args.variant),
                          {**scores, "n_images": cfg.n_images, "n_reference": len(real)})
    print(f"fid@{args.variant}: " + "; ".join(
        f"{m}: FID {s['fid']:.2f}, IS {s['is_mean']:.2f} +- {s['is_std']:.2f}, KID {s['kid_mean']:.4f}"
        for m, s in scores.items()) + f" ({cfg.n_images} samples vs {len(real)} real images)")


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
