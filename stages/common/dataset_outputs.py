"""What download@ writes: data/<name>/ with a <split>.npz (``x``, ``y``) per split and meta.json."""

from __future__ import annotations

import json
from pathlib import Path

from ebm.data.sources import Splits
from stages.common.io import atomic_path, save_npz


def write_dataset(out: Path, splits: Splits, meta: dict) -> None:
    # one atomic rename of the whole folder: a killed download leaves the previous dataset, never half of one
    with atomic_path(out) as tmp:
        tmp.mkdir()
        for s, (x, y) in splits.items():
            save_npz(tmp / f"{s}.npz", x=x, y=y)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
