"""The paper's real OOD sets through torchvision: SVHN, CIFAR-100, Textures (DTD).

Paper scale only (CIFAR-10 models); they need the network the first time, or
torchvision's files already under ``root``. Images are converted to the shape
of the in-distribution data: resized (area) and, for 1-channel data, greyscale.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

TORCHVISION_SETS = ("svhn", "cifar100", "textures")


class DatasetUnavailable(RuntimeError):
    """The set could not be downloaded or read; the message is one line."""


def _open(name: str, root):
    import torchvision.datasets as tvd

    if name == "svhn":  # the original uses SVHN's *train* split (openai/ebm_code_release)
        return tvd.SVHN(root, split="train", download=True)
    if name == "cifar100":
        return tvd.CIFAR100(root, train=False, download=True)
    return tvd.DTD(root, split="test", download=True)


def _as_nchw_uint8(ds, idx: np.ndarray, size: int) -> torch.Tensor:
    if hasattr(ds, "data"):  # SVHN [N, 3, 32, 32]; CIFAR-100 [N, 32, 32, 3]
        x = np.asarray(ds.data)[idx]
        x = x if x.shape[1] == 3 else x.transpose(0, 3, 1, 2)
        return torch.from_numpy(np.ascontiguousarray(x))
    # DTD: PIL images of varying size. The original takes an uncropped top-left 32x32 patch;
    # we resize the short side to ``size`` and centre-crop, so the patch shows the texture at image scale.
    from torchvision.transforms import v2

    tf = v2.Compose([v2.PILToTensor(), v2.Resize(size, antialias=True), v2.CenterCrop(size)])
    return torch.stack([tf(ds[int(i)][0].convert("RGB")) for i in idx])


def load_torchvision_set(name: str, root, n: int, shape: tuple[int, int, int],
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """n random images of set ``name`` as floats in [0, 1] of ``shape`` (C, H, W).

    Raises:
        DatasetUnavailable: offline and the files are not under ``root``, or a corrupt download.
    """
    if name not in TORCHVISION_SETS:
        raise ValueError(f"unknown OOD set {name!r} (allowed: {', '.join(TORCHVISION_SETS)})")
    try:
        ds = _open(name, root)
    except Exception as e:  # URLError, socket errors, bad checksums
        raise DatasetUnavailable(
            f"{name}: download failed ({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}); "
            f"no network? put torchvision's files under {root}"
        ) from None
    c, h, _ = shape
    idx = torch.randperm(len(ds), generator=generator)[:n].sort().values.numpy()
    x = _as_nchw_uint8(ds, idx, h).float() / 255.0  # [n, 3, h', w']
    if x.shape[-1] != h:
        x = F.interpolate(x, size=(h, h), mode="area")
    if c == 1:  # ITU-R 601 luma, as PIL's convert("L")
        x = (x * torch.tensor([0.299, 0.587, 0.114])[None, :, None, None]).sum(1, keepdim=True)
    return x
