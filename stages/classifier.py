"""classifier: the digits CNN used to score samples (FD features, class accuracy)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from tqdm import tqdm

from ebm.checkpoint import pack
from ebm.data import dequantize
from ebm.evaluation import SmallCNN, predict, train_classifier
from stages.common.data import load_split
from stages.common.io import save_torch
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import images
from stages.common.paths import classifier_dir, metrics_file
from stages.common.tracking import stage_run

DATASET = "digits"


def main(args) -> None:
    params = load_params(images.SECTIONS)
    cfg = params["classifier"]
    torch.manual_seed(params["seed"])
    x, y, meta = load_split(DATASET, "train")
    xt, yt, _ = load_split(DATASET, "test")
    x, xt = dequantize(x, noise=False), dequantize(xt, noise=False)
    with stage_run("classifier", DATASET, section_params(params, "seed", "classifier")) as run:
        model = SmallCNN(x.shape[1], meta["n_classes"], cfg.width)
        bar = tqdm(train_classifier(model, x, y, cfg), total=cfg.epochs, desc="classifier", unit="epoch")
        for epoch, loss in enumerate(bar):
            bar.set_postfix(loss=f"{loss:.4f}")
            run.log_metrics({"train_loss": loss}, step=epoch)
        logits, _ = predict(model, xt)
        acc = (logits.argmax(1) == yt).float().mean().item()
        save_torch(classifier_dir() / "model.pt", pack(
            "classifier", {"in_channels": x.shape[1], "n_classes": meta["n_classes"], "width": cfg.width}, model,
            config=asdict(cfg), dataset=DATASET))
        run.write_metrics(metrics_file("classifier"), {"test_accuracy": acc})
        print(f"classifier: test accuracy {acc:.4f} on {len(yt)} held-out {DATASET}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
