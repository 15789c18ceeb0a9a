"""Datasets read from outside the package: MNIST and CIFAR-10 through torchvision (downloaded into a
root folder when the network reaches their hosts), downsampled ImageNet 32x32 from Chrabaszcz et al.'s
pickles and ImageNet 128x128 from an ImageFolder of JPEGs (both from a folder the user gives: they
cannot be downloaded without an image-net.org account). ``dataset_splits`` picks the source by name
(scikit-learn's digits, which ship with the package, included).

Each returns {"train": (x, y), "test": (x, y)}: x uint8 [N, C, H, W], y int64 [N]. A source that cannot
be read raises SourceError with one line that names the file and what it should hold.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np

from ebm.data.arrays import stratified_split
from ebm.data.digits import load_digits

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


class SourceError(Exception):
    """A dataset source that cannot be read: a failed download, a missing or malformed file."""


def dataset_splits(name: str, raw_root, test_fraction: float = 0.2, seed: int = 0, path="",
                   per_class: int = 0) -> Splits:
    """{"train": (x, y), "test": (x, y)} of dataset ``name``: digits (split here, stratified, ``test_fraction``
    held out, fixed by ``seed``), mnist / cifar10 (torchvision, into ``raw_root``), imagenet32 / imagenet128
    (read from ``path``; imagenet128 keeps the first ``per_class`` images of each class, 0: all)."""
    if name == "digits":
        x, y = load_digits()
        train, test = stratified_split(y, test_fraction, seed)
        return {"train": (x[train], y[train]), "test": (x[test], y[test])}
    if name == "imagenet32":
        return imagenet32_arrays(path)
    if name == "imagenet128":
        return imagenet128_arrays(path, per_class)
    return torchvision_arrays(name, raw_root)


def checksum(splits: Splits) -> str:
    """sha256 of every array of every split, in a fixed order: what a resumed run checks its data by."""
    h = hashlib.sha256()
    for split in sorted(splits):
        for a in splits[split]:
            h.update(a.tobytes())
    return h.hexdigest()


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
            raise SourceError(
                f"{name}: download failed ({type(e).__name__}: {str(e)[:120]}); no network? "
                f"put torchvision's files under {root} or use the embedded default (digits)"
            ) from None
        x = np.asarray(ds.data)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # -> [N, C, H, W]
        out[split] = (np.ascontiguousarray(x, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64))
    return out


def imagenet32_arrays(root) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Downsampled ImageNet 32x32 (Chrabaszcz et al. 2017) from its pickles under ``root``.

    Files ``train_data_batch_1`` .. ``_10`` and ``val_data`` (or the same names with
    ``.npz``), each {'data': uint8 [N, 3072] (R, G, B planes), 'labels': 1..1000}.
    Labels are shifted to 0-based, as the original's data.py does.
    """
    files = {"train": [f"train_data_batch_{i}" for i in range(1, 11)], "test": ["val_data"]}
    out = {}
    for split, names in files.items():
        xs, ys = [], []
        for name in names:
            d = _read_batch(Path(root), name)
            xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            ys.append(np.asarray(d["labels"], dtype=np.int64) - 1)
        out[split] = (np.concatenate(xs), np.concatenate(ys))
    return out


def _read_batch(root: Path, name: str) -> dict:
    path = root / name if (root / name).exists() else root / f"{name}.npz"
    if not path.exists():
        raise SourceError(f"{root / name}: missing ImageNet32 file; download.imagenet32_path must hold "
                        "train_data_batch_1..10 and val_data (Imagenet32_train / Imagenet32_val from image-net.org)")
    try:
        if path.suffix == ".npz":
            with np.load(path) as z:
                d = {"data": z["data"], "labels": z["labels"]}
        else:
            with open(path, "rb") as f:
                d = pickle.load(f, encoding="latin1")  # the files may be Python 2 pickles
        if np.asarray(d["data"]).shape[1:] != (3072,) or len(d["labels"]) != len(d["data"]):
            raise ValueError("expected data [N, 3072] and N labels")
    except Exception as e:
        raise SourceError(f"{path}: not an ImageNet32 batch ({type(e).__name__}: {str(e)[:80]})") from None
    return d


def _rgb(image):  # module level: DataLoader workers pickle the transform
    return image.convert("RGB")


def first_per_class(samples: list[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    count: dict[int, int] = {}
    kept = []
    for path, label in samples:
        if count.get(label, 0) < k:
            kept.append((path, label))
            count[label] = count.get(label, 0) + 1
    return kept


def imagenet128_arrays(root, per_class: int = 0, workers: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ImageNet at 128x128 from an ImageFolder of JPEGs: ``root/train/<class>/*``, ``root/val/<class>/*``.

    As the original's preprocessing: shorter side resized to 128 (bilinear), then
    a centre crop of 128, no flip. ``per_class`` > 0 keeps the first that many
    files of each class (sorted by name): all of ImageNet is ~63 GB as uint8.
    """
    import torch
    from torchvision import datasets, transforms
    from tqdm import tqdm

    tf = transforms.Compose([_rgb, transforms.Resize(128, interpolation=transforms.InterpolationMode.BILINEAR),
                             transforms.CenterCrop(128), transforms.PILToTensor()])
    out, classes = {}, None
    for split, folder in (("train", "train"), ("test", "val")):
        path = Path(root) / folder
        try:
            ds = datasets.ImageFolder(path, transform=tf)
        except (FileNotFoundError, OSError) as e:
            raise SourceError(f"{path}: not an ImageFolder of JPEGs ({str(e)[:100]}); download.imagenet128_path must "
                            "hold train/<class>/*.JPEG and val/<class>/*.JPEG") from None
        if classes is not None and ds.classes != classes:
            raise SourceError(f"{path}: its class folders differ from {Path(root) / 'train'}'s")
        classes = ds.classes
        if per_class:
            ds.samples = first_per_class(ds.samples, per_class)
            ds.targets = [t for _, t in ds.samples]
        x = np.empty((len(ds), 3, 128, 128), dtype=np.uint8)
        loader = torch.utils.data.DataLoader(ds, batch_size=256, num_workers=workers)
        i = 0
        for xb, _ in tqdm(loader, desc=f"imagenet128 {split}", unit="batch"):
            x[i : i + len(xb)] = xb.numpy()
            i += len(xb)
        out[split] = (x, np.asarray(ds.targets, dtype=np.int64))
    return out
