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

import torch

from ebm.composition.factor_ebm import sample_rows, training_set
from ebm.data import uniform_like
from ebm.training import Trainer, random_batches
from stages.common.composition import factor_energy, load_dsprites, train_loop
from stages.common.factor_checkpoint import save_factor
from stages.common.io import UserError, save_grid, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, PLOTS
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    section = params["factors"]
    factors, (net, train_cfg, langevin_cfg) = section.cfg, section.of(args.factor)
    if args.factor not in factors.names:
        raise UserError(f"factors.names: {args.factor!r} is not listed (listed: {', '.join(factors.names)})")
    torch.manual_seed(params["seed"])
    data, test = load_dsprites()
    x, y = training_set(data, test, args.factor)
    model = factor_energy(x[0].numel(), args.factor, net, factors.label_gain)
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(tuple(x.shape[1:])))
    with stage_run("train_factor", args.factor, section_params(params, "seed", "factors"), system_metrics=True) as run:
        rows = train_loop(trainer, random_batches(x, y, train_cfg.batch_size), train_cfg.n_iters, net.log_every,
                          run, f"train_factor@{args.factor}")
        model.eval().requires_grad_(False)
        grid = PLOTS / "images" / "train_factor" / args.factor / "samples.png"
        save_grid(grid, sample_rows(model, x, y, trainer.last_negatives, langevin_cfg), nrow=16, scale=3)
        path = save_factor(model, args.factor, net, factors.label_gain, x[0].numel(), x.shape[-1])
        write_csv(PLOTS / "train_factor" / f"{args.factor}.csv", rows)
        run.write_metrics(METRICS / "train_factor" / f"{args.factor}.json",
                          {f"final_{k}": rows[-1][k] for k in ("loss", "e_pos", "e_neg")})
        run.log_artifact(grid)
        run.log_model(model, f"igebm-factor-{args.factor}", x[:2].numpy(), y[:2].numpy())
    print(f"train_factor@{args.factor}: {train_cfg.n_iters} iterations, final loss {rows[-1]['loss']:.4f} -> {path}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", required=True, help="one of factors.names in params.yaml")
    run_main(main, p)
