"""The dsprites stage's arrays: drawn offline or read from the real file (downloaded once into
data/.raw/dsprites/), then written as data/dsprites/{dsprites.npz, meta.json}."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import torch

from ebm.composition.dsprites import DSprites, from_arrays, render_grid, select_classes
from stages.common.io import UserError, atomic_path, save_npz
from stages.common.paths import dsprites_file, raw_dir
from stages.common.sections.composition import DSpritesParams


def real_arrays(url: str, raw: Path) -> dict[str, np.ndarray]:
    """The real file's three arrays, downloaded into ``raw`` first if not there."""
    path = raw / url.rsplit("/", 1)[-1]
    if not path.exists():
        raw.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(path) as tmp:
                urllib.request.urlretrieve(url, tmp)
        except Exception as e:  # URLError, timeouts, HTTP errors
            raise UserError(f"dsprites.url: download failed ({type(e).__name__}: {str(e)[:120]}); no network? "
                            f"put the file at {path} or use dsprites.source: render") from None
    try:
        with np.load(path, allow_pickle=False) as z:  # its 'metadata' entry is pickled: never read it
            return {k: z[k] for k in ("imgs", "latents_values", "latents_classes")}
    except Exception as e:
        raise UserError(f"{path}: corrupt dSprites file ({type(e).__name__}: {str(e)[:80]}); delete it and rerun "
                        f"`dvc repro dsprites`") from None


def build(cfg: DSpritesParams, seed: int) -> tuple[DSprites, torch.Generator]:
    """The kept images (``cfg.source``) and the seeded generator that chose them: the held-out draw goes on
    from it."""
    gen = torch.Generator().manual_seed(seed)
    classes = select_classes(cfg.n_images, cfg.slice_orientation, gen)
    if cfg.source == "render":
        return render_grid(cfg.image_size, classes), gen
    arrays = real_arrays(cfg.url, raw_dir("dsprites"))
    try:
        return from_arrays(arrays, cfg.image_size, classes), gen
    except ValueError as e:
        raise UserError(f"{raw_dir('dsprites')}: the dSprites file does not fit ({e})") from None


def write(arrays: dict[str, np.ndarray], meta: dict) -> None:
    """data/dsprites/ as a whole (replaced at once, so a crash leaves the old folder or none)."""
    with atomic_path(dsprites_file().parent) as tmp:
        tmp.mkdir()
        save_npz(tmp / dsprites_file().name, **arrays)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
