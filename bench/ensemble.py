"""The historical ensemble against one model, under different learning-rate schedules (docs/generation.md).

    python -m bench.ensemble --variant digits_uncond                      # three schedules, ~20 min on one core
    python -m bench.ensemble --variant digits_cond --schedules anneal constant --threads 1
    python -m bench.ensemble --variant digits_cond --schedules anneal --n-iters 2400   # what longer training buys
    python -m bench.ensemble --schedules anneal --train-seeds 1 2 3 --spacings 10     # over training runs
    python -m bench.ensemble --variant digits_uncond --committed                        # the pipeline's checkpoints
    python -m bench.ensemble --schedules anneal --n-iters 2400 --spacings 10 --replay-size 2000   # a smaller buffer

For each training seed (`--train-seeds`; default: the seed of params.yaml) and schedule it trains
the variant once with the embedded default's `train` params (only the schedule changed), keeping a
checkpoint every 10 iterations in memory, then samples as `sample@<v>` does (its persistent-chain
protocol) from the final model and from ensembles of the last 10 checkpoints `spacing` iterations
apart (`--spacings`; `rotate`, and `mean` for the first spacing), with two sampling seeds, and
scores the samples as `evaluate@<v>` does (Fréchet distance in the digit classifier's features to
the held-out digits; for a conditional variant the asked-class share).

`--committed` trains nothing: it samples the committed run's checkpoints (`models/<v>/history/`, as
`sample@<v>` loads them), each one alone and the ensemble of all of them, with each sampling seed, and
prints a row per checkpoint: how far one model's FD moves between neighbouring checkpoints, against
which the ensemble is judged.

Schedules: `anneal` (the default: lr falls to ~0 over the last quarter), `constant` (the original's),
`floor<f>` (the anneal stops at f times the lr, e.g. `floor0.1`), `cycles<k>` (the anneal in k restarts,
`train.lr_cycles`; with `--spacings` = the cycle's length the ensemble holds the cycles' ends). Prints a
markdown table; with `--csv` / `--figure` also writes the rows and a bar chart. Needs `models/classifier/model.pt` and
`data/digits` (`dvc repro classifier`). Results depend on the thread count (float summation order):
the numbers in docs/generation.md are from `--threads 1`.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import time
from pathlib import Path

import torch

SPACINGS = (10, 50)  # iterations between the ensemble's checkpoints
ENSEMBLE_SIZE = 10


def schedule(name: str) -> dict:
    if name == "anneal":
        return {}
    if name == "constant":
        return {"lr_anneal_from": 1.0}
    if name.startswith("cycles"):  # cycles<k>: the anneal split into k restarts (snapshot ensembles)
        k = name[len("cycles"):]
        if k.isdigit() and int(k) > 0:
            return {"lr_cycles": int(k)}
    if name.startswith("floor"):
        try:
            floor = float(name[len("floor"):])
        except ValueError:
            floor = -1.0
        if 0 <= floor <= 1:
            return {"lr_floor": floor}
    raise SystemExit(f"error: --schedules: unknown schedule {name!r} (anneal, constant, floor<f> with f in [0, 1], "
                     "cycles<k>)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="digits_uncond")
    ap.add_argument("--schedules", nargs="+", default=["anneal", "constant", "floor0.1"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="sampling seeds")
    ap.add_argument("--train-seeds", nargs="+", type=int, help="training seeds (default: the seed of params.yaml)")
    ap.add_argument("--spacings", nargs="+", type=int, default=list(SPACINGS),
                    help="iterations between the ensemble's checkpoints (multiples of 10)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-iters", type=int, help="training iterations (default: train.n_iters of params.yaml)")
    ap.add_argument("--replay-size", type=int, help="replay buffer size (default: train.replay_size of params.yaml)")
    ap.add_argument("--committed", action="store_true",
                    help="no training: score each committed history checkpoint alone and their ensemble")
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--figure", type=Path)
    args = ap.parse_args()
    for name in args.schedules:  # before any training
        schedule(name)
    if not args.spacings or any(sp <= 0 or sp % 10 for sp in args.spacings):
        raise SystemExit(f"error: --spacings: {args.spacings}: positive multiples of 10 "
                         "(checkpoints are kept every 10)")
    torch.set_num_threads(args.threads)

    from ebm.accel import uniform_on
    from ebm.data import dequantize
    from ebm.evaluation import frechet_distance, predict
    from ebm.models import build_energy
    from ebm.sampling import persistent_sample
    from ebm.training import FitLog, Trainer, batch_at, fit
    from stages.common.data import load_split
    from stages.common.io import UserError
    from stages.common.models import classifier_from_checkpoint, energy_from_checkpoint
    from stages.common.params import load_params, variant
    from stages.common.paths import classifier_dir, history_dir
    from stages.common.sections import images

    try:  # a missing file or a wrong variant: one line, before any training
        params = load_params(images.SECTIONS)
        var = variant(params, args.variant)
        if var.dataset != "digits":
            raise UserError(f"--variant {args.variant}: its dataset is {var.dataset!r}; the FD here needs digits")
        clf = classifier_from_checkpoint(classifier_dir() / "model.pt")
        x, y, meta = load_split(var.dataset, "train")
        x_test, _, _ = load_split(var.dataset, "test")
    except UserError as e:
        raise SystemExit(f"error: {e}") from None
    train_cfg, langevin_cfg, *_ = params["train"]
    persist_cfg, sample_langevin, _ = params["sample"]
    _, f_test = predict(clf, dequantize(x_test, noise=False))
    n_classes = meta["n_classes"] if var.conditional else 0
    shape = tuple(meta["shape"])

    def score(models, mode, sample_seed):
        gen = torch.Generator().manual_seed(sample_seed)
        n = persist_cfg.n_chains
        labels = torch.arange(n) % n_classes if n_classes else None
        cfg = dataclasses.replace(persist_cfg, ensemble_mode=mode)
        xs, ys = persistent_sample(models, uniform_on(shape, "cpu", gen), labels, n_classes, sample_langevin, cfg, gen)
        logits, feats = predict(clf, (xs.clamp(0, 1) * 255).round() / 255)  # the uint8 round trip of sample@
        acc = float((logits.argmax(1) == ys).float().mean()) if n_classes else float("nan")
        return frechet_distance(feats.numpy(), f_test.numpy()), acc

    if args.committed:
        committed(args, sorted(history_dir(args.variant).glob("step_*.pt")), energy_from_checkpoint, score, n_classes)
        return
    rows = []
    for seed, name in [(s, n) for s in args.train_seeds or [params["seed"]] for n in args.schedules]:
        cfg = dataclasses.replace(train_cfg, history_every=10, **schedule(name))
        if args.n_iters:
            cfg = dataclasses.replace(cfg, n_iters=args.n_iters)
        if args.replay_size is not None:
            cfg = dataclasses.replace(cfg, replay_size=args.replay_size)
        torch.manual_seed(seed)
        model = build_energy(var.network, shape[0], n_classes, shape[-1])
        trainer = Trainer(model, cfg, langevin_cfg, uniform_on(shape, "cpu"))
        history = []

        def batch(step):
            xb, yb = batch_at(x, y if var.conditional else None, cfg.batch_size, step - 1, seed)
            return dequantize(xb), yb

        t0 = time.perf_counter()
        fit(trainer, batch, cfg.n_iters, log_every=100, log=FitLog(),
            hooks=[(10, lambda step: history.append((step, copy.deepcopy(model).eval())))])
        print(f"{name}, training seed {seed}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
        model.eval()
        sets = [("single", [model], "rotate")]
        for spacing in args.spacings:
            members = [m for step, m in history if step % spacing == 0][-ENSEMBLE_SIZE:]
            sets.append((f"rotate, {ENSEMBLE_SIZE} x {spacing} it", members, "rotate"))
            if spacing == args.spacings[0]:
                sets.append((f"mean, {ENSEMBLE_SIZE} x {spacing} it", members, "mean"))
        for label, models, mode in sets:
            for s in args.seeds if mode == "rotate" else args.seeds[:1]:  # mean: 10 models a step, one seed
                fd, acc = score(models, mode, s)
                rows.append({"variant": args.variant, "train_seed": seed, "schedule": name, "n_iters": cfg.n_iters,
                             "replay_size": cfg.replay_size,
                             "sampler": label, "seed": s, "fd": round(fd, 2), "asked_class": round(acc, 3)})
                print(f"  {label:<20} seed {s}: FD {fd:.2f}" + (f", asked class {acc:.3f}" if n_classes else ""),
                      flush=True)

    seeds = ", ".join(map(str, args.seeds))
    print(f"\n| training seed | schedule | sampler | FD (sampling seed {seeds}) | asked class |"
          "\n|---|---|---|---|---|")
    for (ts, sch, smp) in dict.fromkeys((r["train_seed"], r["schedule"], r["sampler"]) for r in rows):
        rs = [r for r in rows if (r["train_seed"], r["schedule"], r["sampler"]) == (ts, sch, smp)]
        acc = " / ".join(f"{r['asked_class']:.3f}" for r in rs) if n_classes else "–"
        fds = " / ".join(f"{r['fd']:.1f}" for r in rs)
        print(f"| {ts} | {sch} | {smp} | {fds} | {acc} |")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    if args.figure:
        draw(rows, args.figure)


def committed(args, paths, load, score, n_classes) -> None:
    """A row per committed history checkpoint sampled alone, then their rotating ensemble."""
    if not paths:
        raise SystemExit(f"error: models/{args.variant}/history: no checkpoints; run `dvc repro train@{args.variant}`")
    models = [load(p, f"dvc repro train@{args.variant}")[0].eval() for p in paths]
    seeds = ", ".join(map(str, args.seeds))
    print(f"| checkpoint | FD (sampling seed {seeds}) | asked class |\n|---|---|---|")
    for label, members in [(p.stem, [m]) for p, m in zip(paths, models)] + [("ensemble (rotate)", models)]:
        scores = [score(members, "rotate", s) for s in args.seeds]
        acc = " / ".join(f"{a:.3f}" for _, a in scores) if n_classes else "–"
        print(f"| {label} | {' / '.join(f'{fd:.1f}' for fd, _ in scores)} | {acc} |", flush=True)


def draw(rows: list[dict], path: Path) -> None:
    """One group of bars per schedule: the mean FD over seeds of each sampler, seeds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    schedules = list(dict.fromkeys(r["schedule"] for r in rows))
    samplers = list(dict.fromkeys(r["sampler"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / len(samplers)
    for j, smp in enumerate(samplers):
        for i, sch in enumerate(schedules):
            fds = [r["fd"] for r in rows if r["schedule"] == sch and r["sampler"] == smp]
            pos = i + (j - (len(samplers) - 1) / 2) * width
            ax.bar(pos, sum(fds) / len(fds), width, color=f"C{j}", label=smp if i == 0 else None)
            ax.scatter([pos] * len(fds), fds, color="k", s=8, zorder=3)
    ax.set_xticks(range(len(schedules)), schedules)
    ax.set_yscale("log")
    ax.set_ylabel("Fréchet distance (log; lower is better)")
    ax.set_title(f"{rows[0]['variant']}: one model vs the historical ensemble")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
