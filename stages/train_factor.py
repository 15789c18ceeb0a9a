"""train_factor@<factor>: one conditional EBM per dSprites factor (size, shape, position, rotation).

As the original's ``cond_size`` / ``cond_shape`` / ``cond_pos`` / ``cond_rot`` models
(openai/ebm_code_release): every training image, labelled with one factor only (scale;
one-hot shape; (x, y); (cos θ, sin θ)); the other factors vary freely.

Outputs: models/composition/factor_<f>/model.pt, metrics/train_factor/<f>.json,
plots/train_factor/<f>.csv, plots/images/train_factor/<f>/samples.png (rows:
data, fresh samples from noise under the same labels, replay negatives).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch

from ebm.checkpoint import pack
from ebm.composition.dsprites import LABEL_DIMS, factor_labels
from ebm.data import uniform_like
from ebm.sampling import langevin
from ebm.training import Trainer, random_batches
from stages.common.composition import factor_energy, load_dsprites, train_loop
from stages.common.io import UserError, save_grid, save_torch, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, PLOTS, composition_model
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    factors, net, train_cfg, langevin_cfg = params["factors"]
    if args.factor not in factors.names:
        raise UserError(f"factors.names: {args.factor!r} is not listed (listed: {', '.join(factors.names)})")
    torch.manual_seed(params["seed"])
    data, test = load_dsprites()
    x = data.images[~test].float() / 255  # binary-ish sprites: no dequantisation noise, as the original
    y = factor_labels(data.values[~test], args.factor)
    shape = tuple(x.shape[1:])
    model = factor_energy(x[0].numel(), args.factor, net, factors.label_gain)
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(shape))
    with stage_run("train_factor", args.factor, section_params(params, "seed", "factors"), system_metrics=True) as run:
        rows = train_loop(trainer, random_batches(x, y, train_cfg.batch_size), train_cfg.n_iters, net.log_every,
                          run, f"train_factor@{args.factor}")
        model.eval().requires_grad_(False)
        show = torch.randperm(len(x))[:16]  # rows are in the grid's order: pick at random
        fresh = langevin(lambda z: model(z, y[show]), torch.rand(len(show), *shape), langevin_cfg,
                         n_steps=3 * langevin_cfg.n_steps)
        grid = PLOTS / "images" / "train_factor" / args.factor / "samples.png"
        save_grid(grid, torch.cat([x[show], fresh, trainer.last_negatives[:16]]), nrow=16, scale=3)
        arch = {"d_in": x[0].numel(), "hidden": list(net.hidden), "label_dim": LABEL_DIMS[args.factor], "act": net.act,
                "spectral_norm": net.spectral_norm, "label_gain": factors.label_gain}
        save_torch(composition_model(f"factor_{args.factor}") / "model.pt",
                   pack("mlp_energy", arch, model, factor=args.factor, image_size=shape[-1], net=asdict(net)))
        write_csv(PLOTS / "train_factor" / f"{args.factor}.csv", rows)
        run.write_metrics(METRICS / "train_factor" / f"{args.factor}.json",
                          {"final_loss": rows[-1]["loss"], "final_e_pos": rows[-1]["e_pos"], "final_e_neg": rows[-1]["e_neg"]})
        run.log_artifact(grid)
        run.log_model(model, f"igebm-factor-{args.factor}", x[:2].numpy(), y[:2].numpy())
    print(f"train_factor@{args.factor}: {train_cfg.n_iters} iterations, final loss {rows[-1]['loss']:.4f} "
          f"-> {composition_model(f'factor_{args.factor}')}/model.pt")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", required=True, help="one of factors.names in params.yaml")
    run_main(main, p)
