"""What a dataset's meta.json says about its splits (``ebm.data.sources.dataset_splits``)."""

from __future__ import annotations

from ebm.data.sources import Splits, checksum


def dataset_meta(name: str, splits: Splits) -> dict:
    """name, sha256 of every array (``checksum``), image shape [C, H, W], number of classes, n_<split> counts."""
    return {
        "dataset": name,
        "sha256": checksum(splits),
        "shape": list(splits["train"][0].shape[1:]),
        "n_classes": int(max(splits["train"][1].max(), splits["test"][1].max()) + 1),
        **{f"n_{s}": int(len(splits[s][1])) for s in splits},
    }
