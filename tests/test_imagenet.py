"""ImageNet32 and ImageNet128 loaders, on tiny files written here in the real on-disk formats."""

import pickle

import numpy as np
import pytest
from PIL import Image

from stages.common.io import UserError
from stages.common.sections.data import DownloadParams
from ebm.data.sources import SourceError, imagenet32_arrays, imagenet128_arrays
from stages.download import fetch


def write_imagenet32(root, n=3, npz=False):
    """Chrabaszcz et al.'s layout: 10 train batches + val_data, {'data': [N, 3072] uint8, 'labels': 1-based}."""
    rng = np.random.default_rng(0)
    batches = {f"train_data_batch_{i}": n for i in range(1, 11)} | {"val_data": 2}
    written = {}
    for name, k in batches.items():
        d = {"data": rng.integers(0, 256, (k, 3072), dtype=np.uint8), "labels": list(rng.integers(1, 1001, k))}
        if npz:
            np.savez(root / f"{name}.npz", data=d["data"], labels=np.array(d["labels"]))
        else:
            with open(root / name, "wb") as f:
                pickle.dump(d | {"mean": d["data"].mean(0)}, f, protocol=2)
        written[name] = d
    return written


@pytest.mark.parametrize("npz", [False, True])
def test_imagenet32_reads_the_pickles_planes_first_with_0_based_labels(tmp_path, npz):
    written = write_imagenet32(tmp_path, npz=npz)
    out = imagenet32_arrays(tmp_path)
    x, y = out["train"]
    assert x.shape == (30, 3, 32, 32) and x.dtype == np.uint8 and out["test"][0].shape == (2, 3, 32, 32)
    first = written["train_data_batch_1"]
    assert np.array_equal(x[0, 0].ravel(), first["data"][0, :1024])  # the red plane comes first
    assert np.array_equal(x[0, 2].ravel(), first["data"][0, 2048:])
    assert y[:3].tolist() == [v - 1 for v in first["labels"]]
    assert np.array_equal(out["test"][1], np.array(written["val_data"]["labels"]) - 1)


def test_imagenet32_missing_or_corrupt_files_fail_with_one_line(tmp_path):
    write_imagenet32(tmp_path)
    (tmp_path / "train_data_batch_7").unlink()
    with pytest.raises(SourceError, match="train_data_batch_7: missing ImageNet32 file") as e:
        imagenet32_arrays(tmp_path)
    assert "\n" not in str(e.value)
    (tmp_path / "train_data_batch_7").write_bytes(b"not a pickle")
    with pytest.raises(SourceError, match="train_data_batch_7: not an ImageNet32 batch"):
        imagenet32_arrays(tmp_path)
    cfg = DownloadParams(imagenet32_path=str(tmp_path))
    with pytest.raises(UserError, match="train_data_batch_7: not an ImageNet32 batch"):  # the stage's one line
        fetch("imagenet32", 0.2, 0, None, cfg)


def test_unset_imagenet_paths_name_the_params_key():
    for name in ("imagenet32", "imagenet128"):
        with pytest.raises(UserError, match=f"download.{name}_path: not set"):
            fetch(name, 0.2, 0, None, DownloadParams())


def stripes(h, w):
    """Left quarter red, middle half green, right quarter blue: a centre crop of a wide image is all green."""
    a = np.zeros((h, w, 3), dtype=np.uint8)
    a[:, : w // 4, 0] = 255
    a[:, w // 4 : 3 * w // 4, 1] = 255
    a[:, 3 * w // 4 :, 2] = 255
    return Image.fromarray(a)


def write_imagenet128(root):
    for split, per in (("train", 3), ("val", 1)):
        for c in ("n01440764", "n01443537"):
            (root / split / c).mkdir(parents=True)
            for i in range(per):
                stripes(150, 300).save(root / split / c / f"{c}_{i}.JPEG", quality=95)
    Image.new("L", (64, 80), 128).save(root / "train" / "n01443537" / "z_gray.JPEG")  # grayscale, portrait


def test_imagenet128_resizes_the_shorter_side_and_centre_crops(tmp_path):
    write_imagenet128(tmp_path)
    out = imagenet128_arrays(tmp_path, workers=0)
    x, y = out["train"]
    assert x.shape == (7, 3, 128, 128) and x.dtype == np.uint8
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 1] and out["test"][1].tolist() == [0, 1]
    wide = x[0].astype(int)
    assert wide[1].mean() > 240 and wide[0].mean() < 15 and wide[2].mean() < 15  # only the green middle is kept
    gray = x[-1].astype(int)
    assert (abs(gray - 128) <= 2).all()  # grayscale JPEG -> 3 equal channels, upscaled 64 -> 128


def test_imagenet128_per_class_keeps_the_first_files_of_each_class(tmp_path):
    write_imagenet128(tmp_path)
    x, y = imagenet128_arrays(tmp_path, per_class=2, workers=0)["train"]
    assert y.tolist() == [0, 0, 1, 1]


def test_imagenet128_without_folders_fails_with_one_line(tmp_path):
    with pytest.raises(SourceError, match="not an ImageFolder of JPEGs") as e:
        imagenet128_arrays(tmp_path, workers=0)
    assert "\n" not in str(e.value)
