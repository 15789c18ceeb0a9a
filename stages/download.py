"""download@<dataset>: a dataset to data/<name>/{train,test}.npz + meta.json.

Arrays: ``x`` uint8 [N, C, H, W], ``y`` int64 [N]. The embedded default is
scikit-learn's digits (ships with the package). MNIST and CIFAR-10 come through
torchvision where the network reaches their hosts; offline they fail with one
line that says so.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ebm.data import load_digits, stratified_split
from stages.common.io import UserError, atomic_path, save_npz
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.paths import dataset_dir
from stages.common.tracking import stage_run


def torchvision_arrays(name: str, root) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST / CIFAR-10 train and test splits from torchvision's on-disk format under ``root``.

    Downloads into ``root`` first if the files are not there yet.
    """
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[name]
    out = {}
    for split in ("train", "test"):
        try:
            ds = cls(root, train=split == "train", download=True)
        except Exception as e:  # URLError, socket errors, bad checksums
            raise UserError(
                f"{name}: download failed ({type(e).__name__}: {str(e)[:120]}); no network? "
                f"put torchvision's files under {root} or use the embedded default (digits)"
            ) from None
        x = np.asarray(ds.data)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # -> [N, C, H, W]
        out[split] = (np.ascontiguousarray(x, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64))
    return out


def fetch(name: str, test_fraction: float, seed: int, raw_root) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if name == "digits":
        x, y = load_digits()
        tr, te = stratified_split(y, test_fraction, seed)
        return {"train": (x[tr], y[tr]), "test": (x[te], y[te])}
    return torchvision_arrays(name, raw_root)


def checksum(splits: dict) -> str:
    h = hashlib.sha256()
    for split in sorted(splits):
        for a in splits[split]:
            h.update(a.tobytes())
    return h.hexdigest()


def main(args) -> None:
    params = load_params()
    cfg = params["download"]
    if args.dataset not in cfg.datasets:
        raise UserError(f"download.datasets: {args.dataset!r} is not listed (listed: {', '.join(cfg.datasets)})")
    out = dataset_dir(args.dataset)
    flat = {"download.test_fraction": cfg.test_fraction, "seed": params["seed"], "dataset": args.dataset}
    with stage_run("download", args.dataset, flat) as run:
        splits = fetch(args.dataset, cfg.test_fraction, params["seed"], out.parent / ".raw" / args.dataset)
        meta = {
            "dataset": args.dataset,
            "sha256": checksum(splits),
            "shape": list(splits["train"][0].shape[1:]),
            "n_classes": int(max(splits["train"][1].max(), splits["test"][1].max()) + 1),
            **{f"n_{s}": int(len(splits[s][1])) for s in splits},
        }
        with atomic_path(out) as tmp:
            tmp.mkdir()
            for s, (x, y) in splits.items():
                save_npz(tmp / f"{s}.npz", x=x, y=y)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        run.log_metrics({k: v for k, v in meta.items() if k.startswith("n_")})
        print(f"{args.dataset}: {meta['n_train']} train / {meta['n_test']} test images of shape {meta['shape']} -> {out}")


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True)
    run_main(main, p)
