"""dsprites: the dSprites arrays of the composition experiments -> data/dsprites/.

``source: render`` draws them with ebm.composition.dsprites (offline; the real
factors: 3 shapes, 6 scales, 40 orientations, 32x32 positions) at
``image_size``; ``source: real`` downloads the real .npz from ``url`` once into
data/.raw/dsprites/ and area-averages it to ``image_size``. Either way the stage
keeps ``n_images`` random combinations plus the whole cross-product slice (every
shape, scale and position at orientation ``slice_orientation``) and marks a
random ``test_fraction`` of them as held out.

Outputs: data/dsprites/dsprites.npz (imgs uint8 [N, S, S] 0..255, latents_classes,
latents_values [N, 6] as in the real file, test bool [N]) and meta.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import urllib.request
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ebm.composition.dsprites import from_arrays, render_grid, select_classes, to_arrays
from stages.common.io import UserError, atomic_path, save_npz
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import dsprites_file, raw_dir
from stages.common.sections import composition
from stages.common.sections.composition import DSpritesParams
from stages.common.tracking import stage_run


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


def build(cfg: DSpritesParams, seed: int):
    gen = torch.Generator().manual_seed(seed)
    classes = select_classes(cfg.n_images, cfg.slice_orientation, gen)
    if cfg.source == "render":
        return render_grid(cfg.image_size, classes), gen
    arrays = real_arrays(cfg.url, raw_dir("dsprites"))
    try:
        return from_arrays(arrays, cfg.image_size, classes), gen
    except ValueError as e:
        raise UserError(f"{raw_dir('dsprites')}: the dSprites file does not fit ({e})") from None


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg = params["dsprites"]
    with stage_run("dsprites", None, section_params(params, "seed", "dsprites")) as run:
        data, gen = build(cfg, params["seed"])
        test = torch.rand(len(data), generator=gen) < cfg.test_fraction
        arrays = {**to_arrays(data), "test": test.numpy()}
        meta = {"source": cfg.source, "n_images": len(data), "n_test": int(test.sum()),
                "image_size": cfg.image_size, "sha256": hashlib.sha256(arrays["imgs"].tobytes()).hexdigest(),
                "params": asdict(cfg)}
        out = dsprites_file().parent
        with atomic_path(out) as tmp:
            tmp.mkdir()
            save_npz(tmp / dsprites_file().name, **arrays)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        run.log_metrics({"n_images": len(data), "n_test": meta["n_test"]})
    print(f"dsprites ({cfg.source}): {len(data)} images of {cfg.image_size}x{cfg.image_size}, "
          f"{meta['n_test']} held out -> {dsprites_file()}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
