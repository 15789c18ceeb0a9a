"""sample@<variant>: persistent-chain sampling from the final model and the historical ensemble.

Outputs: data/samples/<v>/samples.npz (``single``, ``ensemble`` uint8 images and
their labels), plots/images/sample/<v>/{single,ensemble}.png.
"""

from __future__ import annotations

import torch
from tqdm import tqdm

from ebm.accel import accelerate
from ebm.sampling.image_samples import balanced_samples, grid_order, to_uint8
from stages.common.image_outputs import log_grid, sample_arrays
from stages.common.io import save_npz
from stages.common.main import run_main, variant_parser
from stages.common.params import load_params, section_params, variant
from stages.common.sampling_inputs import final_model, history_models, image_shape, section_device
from stages.common.sections import images
from stages.common.paths import samples_dir
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(images.SECTIONS)
    variant(params, args.variant)
    persist_cfg, langevin_cfg, accel = params["sample"]
    device = section_device("sample", accel.device)
    model, ckpt, history = final_model(args.variant, need_history=True)
    ensemble = history_models(args.variant, history)
    model, ensemble = accelerate(model, accel, device)[1], [accelerate(m, accel, device)[1] for m in ensemble]
    n = persist_cfg.n_chains
    out, arrays = samples_dir(args.variant), {}
    with stage_run("sample", args.variant, section_params(params, "seed", "sample", variant_name=args.variant)) as run:
        for name, models in (("single", [model]), ("ensemble", ensemble)):
            with tqdm(total=persist_cfg.rounds, desc=f"sample@{args.variant} {name}", unit="round") as bar:
                x, y = balanced_samples(models, image_shape(ckpt), ckpt["label_dim"], langevin_cfg, persist_cfg,
                                        params["seed"], device, progress=lambda r: bar.update(1))
            arrays.update(sample_arrays(name, to_uint8(x), y if y is not None else torch.full((n,), -1)))
            log_grid(run, "sample", args.variant, name, x[grid_order(y, n)])
        save_npz(out / "samples.npz", **arrays)
        run.log_metrics({"n_samples": n, "n_ensemble": len(ensemble)})
    print(f"sample@{args.variant}: {n} samples from the model and a {len(ensemble)}-checkpoint ensemble -> {out}")


if __name__ == "__main__":
    run_main(main, variant_parser(__doc__.splitlines()[0]))
