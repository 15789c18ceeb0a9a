"""The download stage's loaders: digits offline, torchvision's on-disk MNIST format."""

import struct

import numpy as np
import pytest

from ebm.data import load_digits, stratified_split
from stages.common.io import UserError
from ebm.data.sources import checksum, dataset_splits, torchvision_arrays
from stages.download import fetch


def test_digits_are_real_8x8_images_and_the_split_is_stratified_and_fixed():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.uint8 and x.max() == 255
    tr, te = stratified_split(y, 0.2, seed=0)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == len(y)
    assert np.array_equal(te, stratified_split(y, 0.2, seed=0)[1])
    share = np.bincount(y[te], minlength=10) / np.bincount(y, minlength=10)
    assert np.all(np.abs(share - 0.2) < 0.02)


def test_the_digits_splits_and_their_checksum_are_the_committed_ones(tmp_path):
    """download@digits with the embedded default (test_fraction 0.2, seed 0) must keep writing the arrays
    every committed result was computed from: their sha256 is in data/digits/meta.json (dvc.lock)."""
    splits = dataset_splits("digits", tmp_path, 0.2, 0)
    assert [len(splits[s][1]) for s in ("train", "test")] == [1438, 359]
    assert checksum(splits) == "5d21209f717a0a3e4365f630c9b6403225b12954fa50b60ecc6fb9a54b48c87a"
    assert checksum(dataset_splits("digits", tmp_path, 0.2, 1)) != checksum(splits)


def write_idx(path, array: np.ndarray) -> None:
    magic = {1: 0x0801, 3: 0x0803}[array.ndim]
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def test_mnist_loader_reads_torchvisions_raw_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    imgs = {s: rng.integers(0, 256, (n, 28, 28)) for s, n in (("train", 6), ("t10k", 4))}
    for s, a in imgs.items():
        write_idx(raw / f"{s}-images-idx3-ubyte", a)
        write_idx(raw / f"{s}-labels-idx1-ubyte", np.arange(len(a)) % 10)
    out = torchvision_arrays("mnist", tmp_path)
    assert out["train"][0].shape == (6, 1, 28, 28) and out["test"][0].shape == (4, 1, 28, 28)
    assert np.array_equal(out["train"][0][:, 0], imgs["train"])
    assert out["test"][1].tolist() == [0, 1, 2, 3]


def test_offline_download_fails_with_one_line(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tvu

    def no_network(*a, **k):
        raise OSError("Network is unreachable")

    # torchvision's downloader is what fails offline; fail it at once instead of waiting on a timeout.
    monkeypatch.setattr(tvu, "_urlretrieve", no_network)
    with pytest.raises(UserError) as e:  # through the stage: the library's SourceError as its one line
        fetch("cifar10", 0.2, 0, tmp_path)
    msg = str(e.value)
    assert msg.startswith("cifar10: download failed") and "\n" not in msg
