"""crossclass: cross-class mode coverage with the conditional EBM (reference §3.4).

Each chain starts from a held-out image and runs under a different, random label.
Metric (metrics/crossclass/<v>.json): the share of chains the digits classifier puts
in the new label after all rounds (``new_label_share``), and in the start image's class
(``start_label_share``); per round in plots/crossclass/<v>.csv.
Panel: plots/images/crossclass/<v>/trajectories.png, one chain per row: start, then every round.
"""

from __future__ import annotations

import argparse

import torch
from tqdm import tqdm

from ebm.evaluation import predict
from ebm.generalization import cross_class_chains, other_labels
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.figures import image_panel
from stages.common.io import UserError, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.paths import curve_file, images_dir, metrics_file
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params()
    exp, cfg, langevin_cfg = params["crossclass"]
    if langevin_cfg.n_steps == 0:
        raise UserError("crossclass.n_steps = 0: the chains need at least one step per round")
    device = experiment_device(params, "crossclass")
    model, ckpt = experiment_model(params, "crossclass", device, conditional=True)
    clf = judge(ckpt["dataset"], device)
    if clf is None:
        raise UserError(f"crossclass.variant = {exp.variant!r}: no classifier trained on {ckpt['dataset']} to score it")
    gen = torch.Generator(device).manual_seed(params["seed"])  # new labels and chain noise
    x, y = subset(ckpt["dataset"], "test", exp.n_images, params["seed"], device)
    y_new = other_labels(y, ckpt["label_dim"], gen)
    with stage_run("crossclass", exp.variant, section_params(params, "seed", "crossclass")) as run:
        traj = []  # [rounds + 1, N, C, H, W], in chunks so the progress bar moves
        for i in tqdm(range(0, len(x), 50), desc="crossclass", unit="chunk"):
            traj.append(cross_class_chains(model, x[i : i + 50], y_new[i : i + 50], langevin_cfg, cfg.rounds, gen))
        traj = torch.cat(traj, dim=1)
        rows = []
        for r, xr in enumerate(traj):
            pred = predict(clf, xr)[0].argmax(1)
            rows.append({"steps": r * langevin_cfg.n_steps, "new_label_share": float((pred == y_new).float().mean()),
                         "start_label_share": float((pred == y).float().mean())})
            run.log_metrics({k: v for k, v in rows[-1].items() if k != "steps"}, step=rows[-1]["steps"])
        write_csv(curve_file("crossclass", exp.variant), rows)
        panel = images_dir("crossclass", exp.variant) / "trajectories.png"
        order = torch.argsort(y_new[:40], stable=True)[::2]  # 20 chains, sorted by the asked label
        image_panel(panel, traj[:, order].transpose(0, 1), [f"{y[i]} -> {y_new[i]}" for i in order.tolist()],
                    [str(r["steps"]) for r in rows], title="start class -> asked class; columns: Langevin steps")
        run.log_artifact(panel)
        final = rows[-1]
        metrics = {"new_label_share": final["new_label_share"], "start_label_share": final["start_label_share"],
                   "steps": final["steps"], "n_chains": len(x)}
        run.write_metrics(metrics_file("crossclass", exp.variant), metrics)
    print(f"crossclass@{exp.variant}: after {final['steps']} steps {final['new_label_share']:.1%} of {len(x)} chains "
          f"show the new label, {final['start_label_share']:.1%} still their start class")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
