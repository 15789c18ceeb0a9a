"""What the fid stage needs from the outside: the Inception weights (its params section:
stages/common/sections/fid.py).

The weights (torch-fidelity's port of TF's ``inception-2015-12-05``, 91 MB) come
from ``fid.inception_weights`` when that names a file; otherwise they are
fetched from GitHub into torch's hub cache (once, where the network reaches it);
with neither, the stage stops with one line saying what to do.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from stages.common.io import UserError

INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
FEATURES = ["2048", "logits_unbiased"]  # pool_3 for FID/KID, the logits the original's IS used


def inception_network(weights: str) -> nn.Module:
    """uint8 images [B, 3, H, W] -> (pool_3 features [B, 2048], logits [B, 1008]); raises UserError."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"fid.inception_weights = {weights!r}: no such file; download {INCEPTION_URL} "
                            "and give its path, or set it to '' to fetch it")
        try:  # torch-fidelity unpickles the file freely (weights_only=False): check it holds tensors only first
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise UserError(f"{path}: refused as Inception weights ({type(e).__name__}): not a plain state dict of "
                            f"tensors; expected the file {INCEPTION_URL.rsplit('/', 1)[-1]}") from None
        try:
            return FeatureExtractorInceptionV3("inception-v3-compat", FEATURES, str(path))
        except Exception as e:
            raise UserError(f"{path}: not the Inception weights ({type(e).__name__}); expected the file "
                            f"{INCEPTION_URL.rsplit('/', 1)[-1]}") from None
    try:
        return FeatureExtractorInceptionV3("inception-v3-compat", FEATURES)
    except Exception as e:
        raise UserError(f"Inception weights: fetching {INCEPTION_URL} failed ({type(e).__name__}); no network? "
                        "download the file where there is one and set fid.inception_weights to its path") from None
