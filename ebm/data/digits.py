"""scikit-learn's 8x8 handwritten digits: real data that ships with the package (no network)."""

from __future__ import annotations

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 [N, 1, 8, 8] in 0..255 and int64 labels [N]."""
    from sklearn.datasets import load_digits as sk_load

    d = sk_load()
    x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[:, None]  # pixel values are 0..16
    return x, d.target.astype(np.int64)
