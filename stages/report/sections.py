"""The report's sections: for each experiment of the paper, our numbers beside the paper's.

Each section reads the metrics JSON and figures the stages wrote; a section whose
stage has not run says so. Paper numbers are from the paper's tables as recalled
in shared/reference (marked approximate there); where the paper reports only a
figure, the section says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from stages.common.params import flatten
from stages.common.paths import METRICS, PLOTS

# Paper numbers (Du & Mordatch 2019).
PAPER_GENERATION = [  # model, IS, FID
    ("CIFAR-10 unconditional (single)", 6.02, 40.58),
    ("CIFAR-10 unconditional (10 historical ensemble)", 6.78, 38.2),
    ("CIFAR-10 conditional", 8.30, 37.9),
    ("ImageNet32 conditional", 18.22, 14.31),
    ("ImageNet128 conditional", 28.6, 43.7),
]
PAPER_OOD = {"svhn": 0.63, "textures": 0.48, "constant_uniform": 0.30, "uniform": 1.0, "interpolation": 0.70}
PAPER_CONTINUAL = {"ewc": 19.80, "si": 19.67, "mas": 19.52, "lwf": 24.17, "vae": 40.04, "ebm": 64.99}


def load(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def metrics_table(d: dict) -> tuple:
    """A JSON of metrics as a table: rows of dicts become rows, scalars become (metric, value)."""
    nested = {k: v for k, v in d.items() if isinstance(v, dict)}
    scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
    blocks = []
    if nested:
        rows = {k: flatten(v) for k, v in nested.items()}
        cols = sorted({c for r in rows.values() for c in r})
        if len(cols) <= 12:
            blocks.append(("table", ["", *cols], [[k, *(r.get(c) for c in cols)] for k, r in rows.items()]))
        else:
            scalars.update(flatten(nested))
    if scalars:
        blocks.append(("table", ["metric", "value"], [[k, v] for k, v in scalars.items() if not isinstance(v, list)]))
    return blocks


def images(*dirs: Path) -> list[tuple]:
    out = []
    for d in dirs:
        files = [d] if d.suffix == ".png" else sorted(d.rglob("*.png")) if d.exists() else []
        out += [("img", str(p), p.relative_to(PLOTS).as_posix()) for p in files]
    return out


def missing(stage: str) -> list[tuple]:
    return [("p", f"Not run: no outputs of `{stage}` found (run `dvc repro {stage}`).")]


def generation() -> list[tuple]:
    b = [("h", 2, "1. Generation (the paper's Table 1; DESIGN §6.1)"),
         ("p", "Paper: Inception Score and FID on CIFAR-10/ImageNet, 50,000 samples from persistent chains."),
         ("table", ["paper model", "IS", "FID"], [list(r) for r in PAPER_GENERATION])]
    rows = []
    for path in sorted((METRICS / "evaluate").glob("*.json")):
        m = load(path) or {}
        for kind in ("single", "ensemble"):
            rows.append([f"{path.stem} ({kind})", m.get(f"fd_{kind}"), m.get("fd_floor"),
                         m.get(f"cond_accuracy_{kind}"), m.get(f"class_entropy_{kind}")])
    if not rows:
        return b + missing("evaluate")
    clf = load(METRICS / "classifier.json") or {}
    b += [("p", "Ours (embedded default: 8x8 digits). The Inception network does not fit 8x8 digits and cannot be "
                "downloaded here, so quality is the Fréchet distance in the features of a digits classifier trained "
                f"in the pipeline (test accuracy {clf.get('test_accuracy', float('nan')):.3f}); the floor is the same "
                "distance between real train and held-out digits. Lower is better; the numbers are not comparable "
                "with the paper's FID (other data, other features)."),
          ("table", ["variant", "FD to held-out", "FD floor (real vs real)", "asked-class accuracy",
                     "class coverage (entropy/log 10)"], rows)]
    b += images(PLOTS / "images" / "sample", PLOTS / "images" / "train")
    return b


def restore() -> list[tuple]:
    b = [("h", 2, "2. Denoising and inpainting (DESIGN §6.2)"),
         ("p", "Paper: qualitative panels (salt-and-pepper denoising, bottom-half inpainting) and the train-vs-test "
               "MSE comparison showing the model does not memorise (similar error on both).")]
    found = sorted((METRICS / "restore").glob("*.json"))
    if not found:
        return b + missing("restore")
    for path in found:
        b += [("h", 3, path.stem), *metrics_table(load(path) or {})]
    return b + images(PLOTS / "images" / "restore")


def crossclass() -> list[tuple]:
    b = [("h", 2, "3. Cross-class mode coverage (DESIGN §6.3)"),
         ("p", "Paper: qualitative figure, chains started from an image of another class move to the asked class.")]
    found = sorted((METRICS / "crossclass").glob("*.json"))
    if not found:
        return b + missing("crossclass")
    for path in found:
        b += [("h", 3, path.stem), *metrics_table(load(path) or {})]
    return b + images(PLOTS / "images" / "crossclass")


def ood() -> list[tuple]:
    b = [("h", 2, "4. Out-of-distribution detection (the paper's Table 2; DESIGN §6.4)")]
    found = sorted((METRICS / "ood").glob("*.json"))
    if not found:
        return b + missing("ood")
    for path in found:
        m = load(path) or {}
        auroc = m.get("auroc", {})
        names = sorted(set(auroc) | set(PAPER_OOD))
        rows = [[n, auroc.get(n), PAPER_OOD.get(n)] for n in names]
        rows.append(["average", m.get("auroc_mean"), 0.62])
        b += [("h", 3, f"{path.stem}: AUROC of -E(x), held-out images vs each set"),
              ("p", "Paper column: CIFAR-10 model against SVHN/Textures/... ; ours: digits model against the same "
                    "transformations of held-out digits (uniform, constant uniform, interpolations) and digit-shaped "
                    "outliers. The paper's real-image sets (SVHN, Textures) need CIFAR-10 models and a download."),
              ("table", ["set", "ours (AUROC)", "paper (CIFAR-10, AUROC)"], rows)]
    return b + images(PLOTS / "images" / "ood")


def robustness() -> list[tuple]:
    b = [("h", 2, "5. Adversarial robustness (the paper's Figure 6; DESIGN §6.5)"),
         ("p", "Paper: accuracy-vs-epsilon curves (L-inf and L2 PGD) on CIFAR-10; no table of numbers.")]
    found = sorted((METRICS / "robustness").glob("*.json"))
    if not found:
        return b + missing("robustness")
    for path in found:
        b += [("h", 3, path.stem), *metrics_table(load(path) or {})]
    return b + images(PLOTS / "images" / "robustness")


def generic(title: str, stage_globs: list[str], image_dirs: list[str], paper: str) -> list[tuple]:
    b = [("h", 2, title), ("p", paper)]
    found = [p for g in stage_globs for p in sorted(METRICS.glob(g))]
    if not found:
        return b + missing(stage_globs[0].split("/")[0].split(".")[0])
    for path in found:
        b += [("h", 3, path.relative_to(METRICS).as_posix()), *metrics_table(load(path) or {})]
    return b + images(*(PLOTS / "images" / d for d in image_dirs))


def trajectories() -> list[tuple]:
    return generic("6. Trajectory modelling (the paper's Figures 12-13; DESIGN §6.6)", ["record.json", "train_traj/*.json", "evaluate_traj.json"],
                   ["record", "evaluate_traj"],
                   "Paper: Fréchet distance between generated and held-out Shadow-hand trajectories at several "
                   "horizons (Figure 13, a plot without a table); the EBM stays close to the data while the FC "
                   "network drifts. Ours: the same protocol on small recordings of HandManipulateBlock-v1.")


def continual() -> list[tuple]:
    b = [("h", 2, "7. Continual learning, class-incremental split digits (the paper's Table 3; DESIGN §6.7)")]
    m = load(METRICS / "continual.json")
    if m is None:
        return b + missing("continual")
    methods = m.get("methods", m)
    rows = []
    for name in sorted(set(methods) | set(PAPER_CONTINUAL)):
        v = methods.get(name, {})
        mean = v.get("acc_mean") if isinstance(v, dict) else v  # stages/continual.py writes percent
        std = v.get("acc_std") if isinstance(v, dict) else None
        rows.append([name, mean, std, PAPER_CONTINUAL.get(name)])
    b += [("p", "Accuracy (%) on all 10 classes after the last task. Paper: split MNIST, 10 seeds (EWC/SI/MAS/LwF "
                "numbers from Hsu et al. 2018). Ours: split 8x8 digits, the seeds in params."),
          ("table", ["method", "ours mean", "ours std", "paper (split MNIST)"], rows)]
    extra = {k: v for k, v in m.items() if k != "methods"}
    if extra:
        b += metrics_table(extra)
    return b + images(PLOTS / "images" / "continual")


def composition() -> list[tuple]:
    b = generic("8. Compositional generation (the paper's Figures 14-16; DESIGN §6.8)",
                ["toy2d.json", "factor_judge.json", "compose.json", "crossproduct.json", "train_factor/*.json"],
                ["toy2d", "compose", "crossproduct", "train_factor"],
                "Paper: qualitative 2-D and dSprites compositions (Figures 14-15) and the cross-product MSE of the "
                "composed EBM against a conditional generator trained on a growing share of combinations "
                "(Figure 16, a plot without a table).")
    return b


SECTIONS = [generation, restore, crossclass, ood, robustness, trajectories, continual, composition]
