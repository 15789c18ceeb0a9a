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
from dataclasses import asdict

import torch

from ebm.composition.dsprites import to_arrays
from stages.common.dsprites_arrays import build, write
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import dsprites_file
from stages.common.sections import composition
from stages.common.tracking import stage_run


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
        write(arrays, meta)
        run.log_metrics({"n_images": len(data), "n_test": meta["n_test"]})
    print(f"dsprites ({cfg.source}): {len(data)} images of {cfg.image_size}x{cfg.image_size}, "
          f"{meta['n_test']} held out -> {dsprites_file()}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
