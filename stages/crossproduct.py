"""crossproduct: generalisation to unseen factor combinations, EBM vs a conditional generator (Figure 16).

Per experiment (size x position, shape x position; ebm.composition.crossproduct):
the sum of the two factor EBMs is fine-tuned on one-factor-at-a-time data, then
sampled from noise under held-out (factor, position) pairs; the score is the
MSE to the true image of that pair. The zero-shot sum (before fine-tuning) is
scored too. The baseline generator is trained on the same data plus a share of
the held-out pairs (``seen``) and scored on the same pairs: the paper's curve.

Outputs: metrics/crossproduct.json, plots/crossproduct/<experiment>.csv (MSE vs
share seen), plots/images/crossproduct/{figure16.png, <experiment>.png}.
"""

from __future__ import annotations

import argparse
import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ebm.composition.compose import compose_langevin  # noqa: E402
from ebm.composition.crossproduct import EXPERIMENTS, SumEnergy, balanced, image_mse, split_combos  # noqa: E402
from ebm.composition.dsprites import LABEL_DIMS, factor_labels, find_rows  # noqa: E402
from ebm.composition.generator_baseline import CondGenerator, generate, train_generator  # noqa: E402
from ebm.data import uniform_like  # noqa: E402
from ebm.training import Trainer, random_batches  # noqa: E402
from stages.common.composition import factor_from_checkpoint, load_dsprites, save_figure, train_loop  # noqa: E402
from stages.common.io import UserError, save_grid, write_csv  # noqa: E402
from stages.common.main import run_main  # noqa: E402
from stages.common.params import load_params, section_params  # noqa: E402
from stages.common import composition  # noqa: E402
from stages.common.paths import METRICS, PLOTS  # noqa: E402
from stages.common.tracking import stage_run  # noqa: E402

IMAGES = PLOTS / "images" / "crossproduct"


def labels(values: torch.Tensor, factors) -> torch.Tensor:
    return torch.cat([factor_labels(values, f) for f in factors], dim=1)


def images_of(data, classes) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        rows = torch.from_numpy(find_rows(data.classes, classes))
    except ValueError as e:
        raise UserError(f"data/dsprites: {e}; keep the slice (dsprites.slice_orientation) and rerun `dvc repro dsprites`") from None
    return data.images[rows].float() / 255, data.values[rows]


def ebm_mse(model, y, x_true, x0, langevin_cfg, steps) -> tuple[float, torch.Tensor]:
    x = compose_langevin([lambda z: model(z, y)], x0, langevin_cfg, models=(model,), n_steps=steps)
    return image_mse(x, x_true).mean().item(), x


def run_experiment(name, data, cfg, train_cfg, langevin_cfg, orientation, run, gen) -> tuple[dict, list, list]:
    factors = EXPERIMENTS[name]
    train_cls, test_cls = split_combos(name, orientation, cfg.shape_scale)
    x_tr, v_tr = images_of(data, train_cls)
    x_te, v_te = images_of(data, test_cls)
    y_tr, y_te = labels(v_tr, factors), labels(v_te, factors)
    idx = balanced(len(train_cls) - 1023, 1023)  # [factor set | position set], the first tiled
    x_bal, y_bal = x_tr[idx], y_tr[idx]
    ev = torch.randperm(len(x_te), generator=gen)[: cfg.n_test]  # the pairs both models are scored on
    x0 = torch.rand(x_te[ev].shape, generator=gen)

    model = SumEnergy([copy.deepcopy(factor_from_checkpoint(f)).requires_grad_(True) for f in factors],
                      [LABEL_DIMS[f] for f in factors])
    zero_shot, _ = ebm_mse(model.eval(), y_te[ev], x_te[ev], x0, langevin_cfg, cfg.sample_steps)
    trainer = Trainer(model, train_cfg, langevin_cfg, uniform_like(tuple(x_tr.shape[1:])))
    train_loop(trainer, random_batches(x_bal, y_bal, train_cfg.batch_size), train_cfg.n_iters, 10, run,
               f"crossproduct {name} (EBM)", f"{name}.ebm_")
    model.eval().requires_grad_(False)
    mse_ebm, x_ebm = ebm_mse(model, y_te[ev], x_te[ev], x0, langevin_cfg, cfg.sample_steps)

    curve, shown = [], {}
    for share in tqdm(cfg.seen, desc=f"crossproduct {name} (baseline)", unit="share"):
        extra = torch.randperm(len(x_te), generator=gen)[: round(share * len(x_te))]
        g = CondGenerator(y_tr.shape[1], cfg.z_dim, x_tr.shape[-1], cfg.gen_hidden)
        for _ in train_generator(g, torch.cat([y_bal, y_te[extra]]), torch.cat([x_bal, x_te[extra]]),
                                 cfg.gen_steps, cfg.gen_batch, cfg.gen_lr, gen):
            pass
        x_gen = generate(g, y_te[ev], gen)
        curve.append({"seen": share, "mse_baseline": image_mse(x_gen, x_te[ev]).mean().item(), "mse_ebm": mse_ebm})
        shown[share] = x_gen
    n = 10
    grid = [("true", x_te[ev][:n]), ("EBM (0% seen)", x_ebm[:n])] + [
        (f"generator ({100 * s:.0f}% seen)", shown[s][:n]) for s in (min(cfg.seen), max(cfg.seen))]
    metrics = {"mse_ebm": mse_ebm, "mse_ebm_zero_shot": zero_shot,
               "mse_baseline_unseen": curve[cfg.seen.index(min(cfg.seen))]["mse_baseline"],
               "mse_baseline_all_seen": curve[cfg.seen.index(max(cfg.seen))]["mse_baseline"],
               "n_train": len(train_cls), "n_test_pairs": len(test_cls), "n_scored": len(ev)}
    return metrics, curve, grid


def draw_curves(curves: dict, path) -> None:
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.8), squeeze=False)
    for ax, (name, rows) in zip(axes[0], curves.items()):
        seen = [100 * r["seen"] for r in rows]
        ax.plot(seen, [r["mse_baseline"] for r in rows], "o-", label="conditional generator")
        ax.axhline(rows[0]["mse_ebm"], color="C3", ls="--", label="EBM sum (0% seen)")
        ax.plot([0], [rows[0]["mse_ebm"]], "s", color="C3")
        ax.set(title=name.replace("_", " x "), xlabel="% of held-out combinations seen in training",
               ylabel="MSE to the true image (held-out pairs)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg, train_cfg, langevin_cfg = params["crossproduct"]
    orientation = params["_raw"].get("dsprites", {}).get("slice_orientation", 15)
    gen = torch.Generator().manual_seed(params["seed"])
    torch.manual_seed(params["seed"])
    data, _ = load_dsprites()
    metrics, curves = {}, {}
    with stage_run("crossproduct", None, section_params(params, "seed", "crossproduct")) as run:
        for name in cfg.experiments:
            metrics[name], curves[name], grid = run_experiment(name, data, cfg, train_cfg, langevin_cfg, orientation, run, gen)
            write_csv(PLOTS / "crossproduct" / f"{name}.csv", curves[name])
            save_grid(IMAGES / f"{name}.png", torch.cat([g for _, g in grid]), nrow=len(grid[0][1]), scale=3)
        draw_curves(curves, IMAGES / "figure16.png")
        run.write_metrics(METRICS / "crossproduct.json", metrics)
        run.log_artifact(IMAGES / "figure16.png")
    print("crossproduct: MSE on unseen pairs: " + ", ".join(
        f"{n}: EBM {m['mse_ebm']:.4f} vs generator {m['mse_baseline_unseen']:.4f} (0% seen) / "
        f"{m['mse_baseline_all_seen']:.4f} (100%)" for n, m in metrics.items()) + f" -> {IMAGES}/figure16.png")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
