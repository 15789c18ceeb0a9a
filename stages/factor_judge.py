"""factor_judge: the network that reads every dSprites factor off an image (scores joint samples).

Trained on the non-held-out dSprites images; metrics are its errors on the
held-out ones (the compose stage scores true images too, as the ceiling of its
metric under its tolerances).

Outputs: models/composition/judge/model.pt, metrics/factor_judge.json.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from tqdm import tqdm

from ebm.checkpoint import pack
from ebm.composition.judge import FactorJudge, reading_errors, read_factors, train_judge
from stages.common.composition import load_dsprites
from stages.common.io import save_torch
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import composition
from stages.common.paths import METRICS, composition_model
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(composition.SECTIONS)
    cfg = params["factor_judge"]
    torch.manual_seed(params["seed"])
    data, test = load_dsprites()
    x = data.images.float() / 255
    size = data.images.shape[-1]
    model = FactorJudge(size, cfg.hidden)
    with stage_run("factor_judge", None, section_params(params, "seed", "factor_judge")) as run:
        bar = tqdm(train_judge(model, x[~test], data.classes[~test], data.values[~test], cfg),
                   total=cfg.epochs, desc="factor_judge", unit="epoch")
        for epoch, loss in enumerate(bar, 1):
            run.log_metrics({"loss": loss}, step=epoch)
            bar.set_postfix(loss=f"{loss:.4f}")
        err = reading_errors(read_factors(model, x[test]), data.classes[test], data.values[test])
        metrics = {"shape_accuracy": 1 - err["shape"].mean().item(), "size_accuracy": (err["size"] == 0).float().mean().item(),
                   "size_within_1": (err["size"] <= 1).float().mean().item(),
                   "position_error_mean": err["position"].mean().item(),
                   "rotation_error_deg_median": err["rotation"].median().item()}
        save_torch(composition_model("judge") / "model.pt",
                   pack("factor_judge", {"image_size": size, "hidden": list(cfg.hidden)}, model, config=asdict(cfg)))
        run.write_metrics(METRICS / "factor_judge.json", metrics)
    print("factor_judge on held-out images: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
