"""download@<dataset>: a dataset to data/<name>/{train,test}.npz + meta.json.

Arrays: ``x`` uint8 [N, C, H, W], ``y`` int64 [N]. The embedded default is
scikit-learn's digits (ships with the package). MNIST and CIFAR-10 come through
torchvision where the network reaches their hosts; offline they fail with one
line that says so. ImageNet32 (Chrabaszcz et al.'s pickles) and ImageNet128 (an
ImageFolder of JPEGs) are read from paths the user gives in params
(``download.imagenet32_path`` / ``imagenet128_path``): they cannot be downloaded
without an image-net.org account.
"""

from __future__ import annotations

from ebm.data.meta import dataset_meta
from ebm.data.sources import SourceError, Splits, dataset_splits
from stages.common.dataset_outputs import write_dataset
from stages.common.io import UserError
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.sections import data
from stages.common.paths import dataset_dir
from stages.common.tracking import stage_run


def fetch(name: str, test_fraction: float, seed: int, raw_root, cfg=None) -> Splits:
    """ebm.data.sources.dataset_splits with the user's ImageNet paths from params; its errors as one line."""
    path = getattr(cfg, f"{name}_path", "")  # imagenet32 / imagenet128: user-supplied, never downloaded
    if name in ("imagenet32", "imagenet128") and not path:
        raise UserError(f"download.{name}_path: not set; give the folder of the {name} files (docs/paper_scale.md)")
    try:
        return dataset_splits(name, raw_root, test_fraction, seed, path, getattr(cfg, "imagenet128_per_class", 0))
    except SourceError as e:
        raise UserError(str(e)) from None


def main(args) -> None:
    params = load_params(data.SECTIONS)
    cfg = params["download"]
    if args.dataset not in cfg.datasets:
        raise UserError(f"download.datasets: {args.dataset!r} is not listed (listed: {', '.join(cfg.datasets)})")
    out = dataset_dir(args.dataset)
    flat = {"download.test_fraction": cfg.test_fraction, "seed": params["seed"], "dataset": args.dataset}
    with stage_run("download", args.dataset, flat) as run:
        splits = fetch(args.dataset, cfg.test_fraction, params["seed"], out.parent / ".raw" / args.dataset, cfg)
        meta = dataset_meta(args.dataset, splits)
        write_dataset(out, splits, meta)
        run.log_metrics({k: v for k, v in meta.items() if k.startswith("n_")})
        print(f"{args.dataset}: {meta['n_train']} train / {meta['n_test']} test images of shape {meta['shape']} -> {out}")


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    run_main(main, p)
