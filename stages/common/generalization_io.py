"""What the generalisation stages (restore, crossclass, ood, robustness) read and write besides figures:
ood's image sets, directories of CSV curves, and the one-line summaries printed at the end."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from ebm.generalization import TRANSFORMS, DatasetUnavailable, load_torchvision_set, transform_set
from stages.common.io import UserError, atomic_path, write_csv
from stages.common.paths import raw_dir


def ood_images(name: str, x_in: torch.Tensor, gen: torch.Generator, seed: int) -> torch.Tensor:
    """OOD set ``name`` as many images as x_in: a transform of x_in, or a torchvision set under data/.raw."""
    if name in TRANSFORMS:
        return transform_set(name, x_in, gen)
    try:
        pick = torch.Generator().manual_seed(seed)  # which images of the set
        return load_torchvision_set(name, raw_dir(name), len(x_in), tuple(x_in.shape[1:]), pick).to(x_in.device)
    except DatasetUnavailable as e:
        raise UserError(f"ood.sets: {e}") from None


def write_curves(directory: Path, curves: dict[str, list[dict]]) -> None:
    """<directory>/<name>.csv per curve, replacing the whole directory at once."""
    shutil.rmtree(directory, ignore_errors=True)  # a rerun outside DVC
    with atomic_path(directory) as tmp:
        for name, rows in curves.items():
            write_csv(tmp / f"{name}.csv", rows)


def restore_summary(variant: str, metrics: dict) -> str:
    return f"restore@{variant}: " + ", ".join(
        f"{k} mse={v['mse']:.4f} (corrupted {v['mse_corrupted']:.4f})"
        + (f" kept={v['class_kept']:.2f}" if "class_kept" in v else "")
        for k, v in metrics.items() if isinstance(v, dict))


def crossclass_summary(variant: str, metrics: dict) -> str:
    """A line for the final shares, then one per noise level of a sweep."""
    lines = [f"crossclass@{variant}: after {metrics['steps']} steps {metrics['new_label_share']:.1%} of "
             f"{metrics['n_chains']} chains show the new label, "
             f"{metrics['start_label_share']:.1%} still their start class"]
    lines += [f"  noise {sigma}: new label {m['new_label_share']:.1%}, start class {m['start_label_share']:.1%}"
              for sigma, m in metrics.get("by_noise", {}).items()]
    return "\n".join(lines)


def ood_summary(variant: str, metrics: dict) -> str:
    return (f"ood@{variant}: AUROC " + ", ".join(f"{k}={v:.3f}" for k, v in metrics["auroc"].items())
            + f"; mean {metrics['auroc_mean']:.3f}")


def robustness_summary(variant: str, attack: str, tables: dict[str, list[dict]]) -> str:
    """The accuracies at each norm's last eps."""
    return f"robustness@{variant} (attack={attack}): " + "; ".join(
        f"{norm} eps={rows[-1]['eps']:g}: " + ", ".join(f"{m}={a:.2f}" for m, a in rows[-1].items() if m != "eps")
        for norm, rows in tables.items())
