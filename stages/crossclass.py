"""crossclass: cross-class mode coverage with the conditional EBM (openai/ebm_code_release).

Each chain starts from a held-out image and runs under a different, random label.
Metric (metrics/crossclass/<v>.json): the share of chains the digits classifier puts
in the new label after all rounds (``new_label_share``), and in the start image's class
(``start_label_share``); per round in plots/crossclass/<v>.csv.
Panel: plots/images/crossclass/<v>/trajectories.png, one chain per row: start, then every round.
With ``noise_sweep``, the same chains at other Langevin noise levels: the final shares per level
in ``by_noise`` and plots/images/crossclass/<v>/noise.png.
"""

from __future__ import annotations

import argparse
import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch
from tqdm import tqdm

from ebm.evaluation import predict
from ebm.generalization import cross_class_chains, other_labels
from ebm.sampling import langevin
from stages.common.experiment import experiment_device, experiment_model, judge, subset
from stages.common.figures import image_panel, save_figure
from stages.common.io import UserError, write_csv
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.sections import generalization, images
from stages.common.paths import curve_file, images_dir, metrics_file
from stages.common.tracking import stage_run


def final_shares(model, clf, x, y, y_new, langevin_cfg, rounds, gen) -> dict[str, float]:
    """The classifier's shares of the new label and of the start class after all rounds."""
    ends = torch.cat([langevin(lambda z, yc=y_new[i : i + 50]: model(z, yc), x[i : i + 50], langevin_cfg,
                               models=(model,), n_steps=rounds * langevin_cfg.n_steps, generator=gen)
                      for i in range(0, len(x), 50)])  # the end states only: no trajectory kept
    pred = predict(clf, ends)[0].argmax(1)
    return {"new_label_share": float((pred == y_new).float().mean()), "start_label_share": float((pred == y).float().mean())}


def draw_noise(path, by_noise: dict[str, dict], default_noise: float) -> None:
    noise = [float(k) for k in by_noise]
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for key, label in (("new_label_share", "asked (new) label"), ("start_label_share", "start class")):
        ax.plot(noise, [v[key] for v in by_noise.values()], "o-", label=label)
    ax.axvline(default_noise, color="grey", ls=":", label=f"crossclass.noise_std ({default_noise:g})")
    ax.set_xscale("log")
    ax.set_xticks(noise, [f"{n:g}" for n in noise], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("Langevin noise std per step")
    ax.set_ylabel("share of chains after all steps")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def main(args) -> None:
    params = load_params(images.SECTIONS, generalization.SECTIONS)
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
                   "steps": final["steps"], "n_chains": len(x), "noise_std": langevin_cfg.noise_std}
        if cfg.noise_sweep:
            by_noise = {f"{langevin_cfg.noise_std:g}": {k: final[k] for k in ("new_label_share", "start_label_share")}}
            for sigma in tqdm(cfg.noise_sweep, desc="crossclass noise sweep", unit="level"):
                cfg_s = dataclasses.replace(langevin_cfg, noise_std=sigma)
                by_noise[f"{sigma:g}"] = final_shares(model, clf, x, y, y_new, cfg_s, cfg.rounds, gen)
            metrics["by_noise"] = dict(sorted(by_noise.items(), key=lambda kv: float(kv[0])))
            draw_noise(panel.parent / "noise.png", metrics["by_noise"], langevin_cfg.noise_std)
            run.log_artifact(panel.parent / "noise.png")
        run.write_metrics(metrics_file("crossclass", exp.variant), metrics)
    print(f"crossclass@{exp.variant}: after {final['steps']} steps {final['new_label_share']:.1%} of {len(x)} chains "
          f"show the new label, {final['start_label_share']:.1%} still their start class")
    for sigma, m in metrics.get("by_noise", {}).items():
        print(f"  noise {sigma}: new label {m['new_label_share']:.1%}, start class {m['start_label_share']:.1%}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
