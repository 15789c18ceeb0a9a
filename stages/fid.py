"""fid@<variant>: FID, Inception Score and KID of a variant's samples with the standard Inception network.

Only for the variants ``fid.variants`` lists (none by default; configs/paper/*.yaml list theirs). Samples follow
the original's protocol (ebm.imagemetrics.protocol); the reference set: stages/common/fid_features.py.
Outputs: metrics/fid/<v>.json, data/fid_samples/<v>/samples.npz, plots/images/fid/<v>/<model>.png.
"""

from __future__ import annotations

from tqdm import tqdm

from ebm.accel import accelerate
from ebm.imagemetrics import image_scores, seeded_protocol_samples
from stages.common.fid import inception_network
from stages.common.fid_features import features, reference_images, summary
from stages.common.image_outputs import log_grid, sample_arrays
from stages.common.io import UserError, save_npz
from stages.common.main import run_main, variant_parser
from stages.common.params import load_params, section_params, variant
from stages.common.sampling_inputs import final_model, history_models, image_shape, section_device
from stages.common.sections import fid as fid_params
from stages.common.sections import images
from stages.common.paths import fid_samples_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS, fid_params.SECTIONS)
    var = variant(params, args.variant)
    variants, cfg, score_cfg, persist_cfg, langevin_cfg, accel = params["fid"]
    if args.variant not in variants:
        raise UserError(f"fid.variants: {args.variant!r} is not listed (listed: {', '.join(variants) or 'none'})")
    device = section_device("fid", accel.device)
    net = inception_network(cfg.inception_weights).to(device)  # first: a missing network fails at once
    model, ckpt, history = final_model(args.variant, need_history="ensemble" in cfg.models)
    shape, seed = image_shape(ckpt), params["seed"]
    scores, arrays = {}, {}
    with stage_run("fid", args.variant, section_params(params, "seed", "fid", variant_name=args.variant)) as run:
        real, _ = features(net, reference_images(var.dataset, cfg.reference, cfg.n_reference, seed), score_cfg, device,
                           f"fid@{args.variant} reference")
        for name in cfg.models:
            nets = [model] if name == "single" else history_models(args.variant, history)
            chains = [accelerate(m, accel, device)[1] for m in nets]
            with tqdm(total=cfg.n_images, desc=f"fid@{args.variant} {name} samples", unit="img") as bar:
                x, y = seeded_protocol_samples(chains, shape, ckpt["label_dim"], cfg.n_images, langevin_cfg,
                                               persist_cfg, seed, device, progress=bar.update)
            fake, logits = features(net, x, score_cfg, device, f"fid@{args.variant} {name} features")
            scores[name] = image_scores(real, fake, logits, score_cfg, seed)
            arrays.update(sample_arrays(name, x, y))
            log_grid(run, "fid", args.variant, name, x[:100].float() / 255, scale=max(1, 64 // shape[-1]))
        save_npz(fid_samples_dir(args.variant) / "samples.npz", **arrays)
        run.write_metrics(metrics_file("fid", args.variant),
                          {**scores, "n_images": cfg.n_images, "n_reference": len(real)})
    print(summary(args.variant, scores, cfg.n_images, len(real)))


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
