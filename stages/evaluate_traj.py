"""evaluate_traj: Fréchet distance of generated to held-out hand trajectories (Figure 13), rendered rollouts (Figure 12).

Two settings, each scored at every horizon on the state and on the motion
since the start (ebm.trajectories.metrics):
* conditional: every model continues the held-out trajectories from their own
  first k states (starts every ``start_every`` steps);
* unconditional: no held-out information: the window EBM generates its first
  window from noise, the other models start from training-set starts.
References: ``static`` (the hand frozen at its start: the collapse the paper
reports for FC) and ``data`` (real training trajectories scored the same way).

Outputs: metrics/evaluate_traj.json, plots/evaluate_traj/<setting>_<feature>.csv,
plots/images/evaluate_traj/{figure12,figure13}.png, and every model's rollouts as arrays,
data/rollouts/<model>.npz (raw state units): ``<setting>_start`` [B, k, D] (the starts, the
held-out ones for conditional, repeated ``samples`` times for the EBMs), ``<setting>`` [B, H, D]
(the generated states after them), ``real`` [M, H, D] (the held-out continuations),
``test_trajectory`` / ``test_offset`` [M] (where each held-out start is: index into
test_states, first step), ``horizons``; enough to score them outside the stage.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must be set before mujoco is imported

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ebm.sampling import LangevinConfig  # noqa: E402
from ebm.trajectories.data import Coder  # noqa: E402
from ebm.trajectories.metrics import horizon_fd, motion_scale, segments  # noqa: E402
from ebm.trajectories.record import make_env  # noqa: E402
from ebm.trajectories.rollout import (ChainConfig, ebm_step, fc_step, rollout_lstm, rollout_steps,  # noqa: E402
                                      rollout_window, sample_windows)
from stages.common.io import UserError, atomic_path, write_csv  # noqa: E402
from stages.common.main import run_main  # noqa: E402
from stages.common.params import load_params, section_params  # noqa: E402
from stages.common import trajectories  # noqa: E402
from stages.common.paths import DATA, METRICS, PLOTS  # noqa: E402
from stages.common.tracking import stage_run  # noqa: E402
from stages.common.trajectories import load_model, load_trajectories  # noqa: E402

IMAGES = PLOTS / "images" / "evaluate_traj"
ROLLOUTS = DATA / "rollouts"
SETTINGS, FEATURES = ("conditional", "unconditional"), ("state", "motion")
RENDER_FIX = ("install an offscreen GL (apt-get install libegl1 for MUJOCO_GL=egl, or libosmesa6 with "
              "MUJOCO_GL=osmesa) or set trajectory.evaluate.render: false")


def rollout(name, model, coder, ckpt, start, horizon, window_steps, gen, from_noise=False):
    """(generated states [B, H, D], the start's last state [B, D]) of one model."""
    if name == "fc":
        return rollout_steps(fc_step(model), coder, start, horizon), start[:, -1]
    if name == "lstm":
        return rollout_lstm(model, coder, start, horizon), start[:, -1]
    cfg = LangevinConfig(**ckpt["langevin"])
    chain = ChainConfig(**ckpt.get("chain", {}))  # where the training chains started
    if name == "ebm_cond":
        return rollout_steps(ebm_step(model, cfg, coder, chain, gen), coder, start, horizon), start[:, -1]
    if from_noise:  # the window EBM's own first window, its last k states the start
        start = sample_windows(model, coder, start.shape[0], start.shape[1] + 1, cfg, window_steps, gen)[:, 1:]
    return rollout_window(model, coder, start, horizon, cfg, chain, gen), start[:, -1]


def figure13(table: dict, horizons, path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for i, feature in enumerate(FEATURES):
        for j, setting in enumerate(SETTINGS):
            ax = axes[i, j]
            for name, fds in table[setting][feature].items():
                style = {"static": dict(ls=":", color="gray"), "data": dict(ls="--", color="black")}.get(name, {})
                ax.plot(horizons, [fds[f"h{h}"] for h in horizons], marker="o", ms=3, label=name, **style)
            ax.set(title=f"{setting}: {feature}", xlabel="horizon (steps of 0.04 s)", ylabel="Fréchet distance",
                   yscale="log")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Hand trajectories: Fréchet distance to held-out trajectories (cf. the paper's Figure 13)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def figure12(env_id: str, rows: dict[str, np.ndarray], n: int, every: int, size: int, path) -> None:
    """For each of n held-out starts: the real continuation and each model's, rendered; a frame every
    ``every`` steps from the last start state. rows: name -> states [n, H+1, D]."""
    from ebm.trajectories.render import StateRenderer

    env = make_env(env_id, 1)
    try:
        renderer = StateRenderer(env.unwrapped.model, size)
        strips = {name: [np.concatenate(list(renderer.render(s[i, ::every])), 1) for i in range(n)]
                  for name, s in rows.items()}
        renderer.close()
    except Exception as e:
        raise UserError(f"rendering failed ({type(e).__name__}: {str(e).splitlines()[0][:120]}); {RENDER_FIX}") from None
    finally:
        env.close()
    width = strips["real"][0].shape[1]
    fig, axes = plt.subplots(n * len(rows), 1, figsize=(width / 80, 1.25 * n * len(rows) * size / 80 * 0.9))
    axes = np.atleast_1d(axes)
    for i in range(n):
        for r, name in enumerate(rows):
            ax = axes[i * len(rows) + r]
            ax.imshow(strips[name][i])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_ylabel(f"{name}" + (f"\n(start {i})" if r == 0 else ""), rotation=0, ha="right", va="center",
                          fontsize=8)
    axes[0].set_title(f"held-out start, then every {every} steps: real vs generated (conditional rollouts)", fontsize=9)
    fig.tight_layout(h_pad=0.2)
    fig.subplots_adjust(left=0.16)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)


def main(args) -> None:
    params = load_params(trajectories.SECTIONS)
    sec = params["trajectory"]
    cfg, render = sec["evaluate"]
    k, names, seed = sec["top"].context, sec["top"].models, params["seed"]
    data, meta = load_trajectories()
    train, test = data["train"], data["test"]
    horizon = max(cfg.horizons)
    if test.shape[1] < k + horizon:
        raise UserError(f"trajectory.evaluate.horizons: {horizon} steps after {k} context states need trajectories "
                        f"of {k + horizon} states, recorded ones have {test.shape[1]}; lower it or raise record.length")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    coder = Coder.fit(train)  # the scale every model is scored in
    start, real = segments(test, k, horizon, cfg.start_every)  # [M, k, D], [M, H, D]
    offsets = list(range(0, test.shape[1] - k - horizon + 1, cfg.start_every))  # segments' order: offset-major
    where = {"test_trajectory": np.tile(np.arange(len(test)), len(offsets)),
             "test_offset": np.repeat(np.array(offsets), len(test))}
    train_start, train_future = segments(train, k, horizon, cfg.start_every)
    scale = motion_scale(train_start[:, -1], train_future)
    pick = torch.randperm(len(train_start), generator=gen)[: len(start)]  # unconditional starts, and the data row
    starts = {"conditional": start, "unconditional": train_start[pick]}
    score = lambda g, last: horizon_fd(g, last, real, start[:, -1], cfg.horizons, coder, scale)  # noqa: E731
    table = {s: {f: {} for f in FEATURES} for s in SETTINGS}
    shown = {"real": torch.cat([start[:, -1:], real], 1)}
    arrays = {}
    for name in names:
        model, model_coder, ckpt = load_model(name)
        if ckpt["context"] != k:
            raise UserError(f"trajectory.context = {k}: {name} was trained with {ckpt['context']}; "
                            f"run `dvc repro train_traj@{name}`")
        reps = cfg.samples if name.startswith("ebm") else 1  # the baselines are deterministic
        for setting in SETTINGS:
            s = starts[setting].repeat(reps, 1, 1)
            g, last = rollout(name, model, model_coder, ckpt, s, horizon, cfg.window_steps, gen,
                              from_noise=setting == "unconditional")
            fds = score(g, last)
            arrays.setdefault(name, {}).update({f"{setting}_start": s.numpy(), setting: g.numpy()})
            for f in FEATURES:
                table[setting][f][name] = fds[f]
            if setting == "conditional":
                shown[name] = torch.cat([last[:, None], g], 1)
    for setting in SETTINGS:
        last = starts[setting][:, -1]
        ref = {"static": score(last[:, None].expand(-1, horizon, -1), last),
               "data": score(train_future[pick], train_start[pick][:, -1])}
        for f in FEATURES:
            for name, fds in ref.items():
                table[setting][f][name] = fds[f]
            write_csv(PLOTS / "evaluate_traj" / f"{setting}_{f}.csv",
                      [{"horizon": h, **{n: table[setting][f][n][f"h{h}"] for n in table[setting][f]}}
                       for h in cfg.horizons])
    flat = {k_: v for k_, v in section_params(params, "seed", "trajectory").items()
            if k_ == "seed" or k_.startswith(("trajectory.evaluate.", "trajectory.context", "trajectory.models"))}
    with atomic_path(ROLLOUTS) as tmp:
        tmp.mkdir(parents=True)
        for name, a in arrays.items():
            with open(tmp / f"{name}.npz", "wb") as f:
                np.savez_compressed(f, **a, real=real.numpy(), horizons=np.array(horizon), **where)
    with stage_run("evaluate_traj", None, flat) as run:
        run.write_metrics(METRICS / "evaluate_traj.json", {**table, "n_starts": len(start),
                                                          "horizons": list(cfg.horizons)})
        figure13(table, cfg.horizons, IMAGES / "figure13.png")
        run.log_artifact(IMAGES / "figure13.png")
        if render.render and render.n_render > 0:
            n = min(render.n_render, len(test))  # offset 0 of the first held-out trajectories
            figure12(meta["env_id"], {n_: s[:n].numpy() for n_, s in shown.items()}, n, render.render_every,
                     render.render_size, IMAGES / "figure12.png")
            run.log_artifact(IMAGES / "figure12.png")
    h = f"h{horizon}"
    print(f"evaluate_traj: {len(start)} held-out starts; motion FD at {horizon} steps, conditional: "
          + ", ".join(f"{n_} {table['conditional']['motion'][n_][h]:.3g}" for n_ in table["conditional"]["motion"])
          + f" -> {METRICS / 'evaluate_traj.json'}")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
