"""Cross-class mode coverage (openai/ebm_code_release ``crossclass``): start a chain from an image
of one class, condition it on another, and follow where it goes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch

from ebm.config import gt
from ebm.sampling import LangevinConfig, langevin


@dataclass(frozen=True)
class CrossClassConfig:
    rounds: int = field(default=10, metadata=gt(0))  # snapshots, n_steps Langevin steps apart (the original: 10)
    # The same chains again at these Langevin noise levels (the chain's temperature): how far
    # crossing from the start image's mode to the asked one depends on it. () = none.
    noise_sweep: tuple[float, ...] = ()


def other_labels(y: torch.Tensor, n_classes: int, generator=None) -> torch.Tensor:
    """A uniformly random label different from each y (shift by 1..n_classes-1)."""
    shift = torch.randint(1, n_classes, y.shape, generator=generator, device=y.device)
    return (y + shift) % n_classes


def cross_class_chains(model, x0: torch.Tensor, y_new: torch.Tensor, cfg: LangevinConfig, rounds: int,
                       generator=None) -> torch.Tensor:
    """The trajectory [rounds + 1, N, C, H, W]: x0, then the state every cfg.n_steps steps under y_new."""
    _, trace = langevin(lambda z: model(z, y_new), x0, cfg, models=(model,), n_steps=rounds * cfg.n_steps,
                        generator=generator, trace_every=cfg.n_steps)
    return torch.stack([x0, *trace])


def label_shares(classify: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                 y_new: torch.Tensor) -> dict[str, float]:
    """The shares of images ``x`` that ``classify`` (images -> predicted labels) reads as the asked label
    ``y_new`` and as the start class ``y``."""
    pred = classify(x)
    return {"new_label_share": float((pred == y_new).float().mean()), "start_label_share": float((pred == y).float().mean())}


@dataclass
class CrossClassResult:
    trajectory: torch.Tensor  # [rounds + 1, N, C, H, W]: the start images, then every n_steps steps
    rows: list[dict]  # per snapshot: steps, new_label_share, start_label_share
    by_noise: dict[str, dict]  # noise std -> the final shares (the protocol's noise and cfg.noise_sweep); {} = no sweep

    def metrics(self, noise_std: float) -> dict:
        """The final shares, their step and the number of chains, the chains' noise std ``noise_std``, and
        ``by_noise`` after a noise sweep."""
        final = self.rows[-1]
        out = {"new_label_share": final["new_label_share"], "start_label_share": final["start_label_share"],
               "steps": final["steps"], "n_chains": self.trajectory.shape[1], "noise_std": noise_std}
        if self.by_noise:
            out["by_noise"] = self.by_noise
        return out


def run(model, classify: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
        y_new: torch.Tensor, langevin_cfg: LangevinConfig, cfg: CrossClassConfig, generator=None, chunk: int = 50,
        progress: Callable[[Iterable, str], Iterable] = lambda it, desc: it) -> CrossClassResult:
    """The original's crossclass: chains from ``x`` (class ``y``) under the asked labels ``y_new``, scored
    after every round; then the same chains again at each noise level of ``cfg.noise_sweep`` (end states only).
    Chains run ``chunk`` at a time; ``progress(iterable, desc)`` may wrap the loops in a progress bar."""
    traj = torch.cat([cross_class_chains(model, x[i : i + chunk], y_new[i : i + chunk], langevin_cfg, cfg.rounds,
                                         generator)
                      for i in progress(range(0, len(x), chunk), "crossclass")], dim=1)
    rows = [{"steps": r * langevin_cfg.n_steps, **label_shares(classify, xr, y, y_new)} for r, xr in enumerate(traj)]
    by_noise = {}
    if cfg.noise_sweep:
        by_noise[f"{langevin_cfg.noise_std:g}"] = {k: v for k, v in rows[-1].items() if k != "steps"}
        for sigma in progress(cfg.noise_sweep, "crossclass noise sweep"):
            noisy = dataclasses.replace(langevin_cfg, noise_std=sigma)
            ends = torch.cat([langevin(lambda z, yc=y_new[i : i + chunk]: model(z, yc), x[i : i + chunk], noisy,
                                       models=(model,), n_steps=cfg.rounds * noisy.n_steps, generator=generator)
                              for i in range(0, len(x), chunk)])  # the end states only: no trajectory kept
            by_noise[f"{sigma:g}"] = label_shares(classify, ends, y, y_new)
        by_noise = dict(sorted(by_noise.items(), key=lambda kv: float(kv[0])))
    return CrossClassResult(traj, rows, by_noise)
