"""The report's scorecard: each claim of the paper, our number, the paper's, and a verdict.

A verdict is computed from the metrics files by the rule printed beside it, never
typed in: `reproduced` when the rule holds, `not reproduced` when it fails,
`not comparable at this scale` when the metrics exist but cannot test the claim
here (e.g. the paper's sets are not in our run), `not run` when a stage has not
written its metrics. `tests/test_report.py` feeds metrics that pass and fail
each rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NOT_RUN = (
    "reproduced", "not reproduced", "not comparable at this scale", "not run")

Metrics = Callable[[str], "dict | None"]  # a path under metrics/ -> its JSON, None if absent


@dataclass(frozen=True)
class Claim:
    name: str
    section: str   # the anchor of the report section that holds the details
    paper: str     # the paper's number, or "figure only"
    rule: str      # the verdict's rule, in words
    judge: Callable[[Metrics], tuple[str, str]]  # metrics -> (our number, verdict)


def verdict(ok: bool) -> str:
    return REPRODUCED if ok else NOT_REPRODUCED


def g(d: dict | None, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def image_variants(m: Metrics) -> dict[str, dict]:
    return {v: d for v in ("digits_cond", "digits_uncond") if (d := m(f"evaluate/{v}.json"))}


def generation_quality(m: Metrics):
    runs = image_variants(m)
    if not runs:
        return "–", NOT_RUN
    parts, ok = [], True
    for v, d in runs.items():
        bound = 2.0 if "cond_accuracy_single" in d else 3.0
        ratio = d["fd_single"] / d["fd_floor"]
        ok &= ratio <= bound
        hit = f", asked class {d['cond_accuracy_single']:.2f}" if "cond_accuracy_single" in d else ""
        if "cond_accuracy_single" in d:
            ok &= d["cond_accuracy_single"] >= 0.95
        parts.append(f"{v}: FD {d['fd_single']:.1f} = {ratio:.1f}x floor{hit}")
    return "; ".join(parts), verdict(ok)


def ensemble_gain(m: Metrics):
    runs = image_variants(m)
    if not runs:
        return "–", NOT_RUN
    ok = all(d["fd_ensemble"] <= d["fd_single"] for d in runs.values())
    return "; ".join(f"{v}: FD {d['fd_single']:.1f} -> {d['fd_ensemble']:.1f}" for v, d in runs.items()), verdict(ok)


def restoration(m: Metrics):
    d = m("restore/digits_cond.json")
    if d is None:
        return "–", NOT_RUN
    parts, ok = [], True
    for task in ("denoise", "inpaint"):
        test, ratio = g(d, f"{task}_test"), g(d, f"{task}_test_over_train_mse")
        if test is None or ratio is None:
            return "–", NOT_RUN
        ok &= test["mse"] < test["mse_corrupted"] and ratio <= 1.25
        parts.append(f"{task}: MSE {test['mse_corrupted']:.3f} -> {test['mse']:.3f}, test/train {ratio:.2f}")
    return "; ".join(parts), verdict(ok)


def crossclass(m: Metrics):
    d = m("crossclass/digits_cond.json")
    if d is None:
        return "–", NOT_RUN
    text = f"{d['new_label_share']:.2f} in the asked class after {d.get('steps', '?')} steps"
    by_noise = d.get("by_noise") or {}
    if len(by_noise) > 1:  # the same chains hotter: how the share depends on the chain's noise
        hottest = max(by_noise, key=float)
        noise = d.get("noise_std")
        text += (f" at noise {noise:g}" if noise is not None else "") + \
            f"; {by_noise[hottest]['new_label_share']:.2f} at noise {hottest}"
    return text, verdict(d["new_label_share"] >= 0.8)


def ood(m: Metrics):
    d = m("ood/digits_uncond.json")
    if d is None:
        return "–", NOT_RUN
    mean = d.get("auroc_mean_paper_sets")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return f"mean AUROC {d.get('auroc_mean', float('nan')):.2f} (no set shared with the paper)", NOT_COMPARABLE
    return f"mean AUROC {mean:.2f} on the paper's sets", verdict(mean >= 0.62)


def robustness(m: Metrics):
    d = m("robustness/digits_cond.json")
    if d is None:
        return "–", NOT_RUN
    parts, ok = [], True
    for norm in ("linf", "l2"):
        ebm, clf = g(d, norm, "ebm_refine"), g(d, norm, "classifier")
        if not ebm or not clf:
            return "no plain classifier to compare with", NOT_COMPARABLE
        attacked = [k for k in ebm if float(k.removeprefix("eps_")) > 0 and k in clf]
        if not attacked:
            return "no attacked epsilon in the sweep", NOT_COMPARABLE
        # the curve's mean over the sweep: at the largest epsilon both are often at 0 and say nothing
        e, c = (sum(t[k] for k in attacked) / len(attacked) for t in (ebm, clf))
        ok &= e >= c
        top = max(attacked, key=lambda k: float(k.removeprefix("eps_")))
        parts.append(f"{norm} eps <= {top.removeprefix('eps_')}: EBM {e:.2f} vs CNN {c:.2f}")
    return "mean accuracy over the attack sweep, " + "; ".join(parts), verdict(ok)


def trajectories(m: Metrics):
    d = g(m("evaluate_traj.json"), "conditional")
    if not d:
        return "–", NOT_RUN
    lost = []
    for feature in ("motion", "state"):
        ebm, others = d[feature].get("ebm_cond", {}), [d[feature].get(b, {}) for b in ("fc", "lstm")]
        lost += [f"{feature} {h}" for h, v in ebm.items() if any(v > o.get(h, math.inf) for o in others)]
    motion = d["motion"]
    last = max(motion.get("ebm_cond", {"h0": 0}), key=lambda h: int(h[1:]))
    ours = (f"motion FD at {last[1:]} steps: EBM {motion['ebm_cond'][last]:.1f}, FC {motion['fc'][last]:.1f}, "
            f"LSTM {motion['lstm'][last]:.1f}" + (f"; EBM loses at {', '.join(lost)}" if lost else ""))
    window, fc = motion.get("ebm_uncond", {}).get("h20"), motion.get("fc", {}).get("h20")
    if window is not None and fc is not None:  # the window EBM (unconditional model) against FC at 20 steps
        ours += f"; window EBM at 20 steps {window:.2f} vs FC {fc:.2f}"
        lost += ["window EBM h20"] if window > fc else []
    return ours, verdict(not lost)


def continual(m: Metrics):
    d = g(m("continual.json"), "methods")
    if not d or "ebm" not in d:
        return "–", NOT_RUN
    ebm = d["ebm"]["acc_mean"]
    finetune = g(d, "finetune", "acc_mean", default=math.inf)
    rivals = {k: d[k]["acc_mean"] for k in ("ewc", "si", "mas", "lwf") if k in d}
    ok = ebm >= 3 * finetune and all(ebm > v for v in rivals.values())
    best = max(rivals, key=rivals.get) if rivals else None
    return f"EBM {ebm:.1f}% vs fine-tuning {finetune:.1f}%" + (
        f", best regulariser {best} {rivals[best]:.1f}%" if best else ""), verdict(ok)


COMPOSE_BOUNDS = {"size_position": 0.75, "shape_position": 0.7, "size_shape_position": 0.6}


def composition(m: Metrics):
    d = g(m("compose.json"), "sum")
    if not d:
        return "–", NOT_RUN
    shares = {k: g(d, k, "all") for k in COMPOSE_BOUNDS if g(d, k, "all") is not None}
    if not shares:
        return "–", NOT_RUN
    ok = all(shares[k] >= b for k, b in COMPOSE_BOUNDS.items() if k in shares)
    return ", ".join(f"{k.replace('_', '+')} {v:.2f}" for k, v in shares.items()) + " of samples show all asked factors", \
        verdict(ok)


def crossproduct(m: Metrics):
    d = m("crossproduct.json")
    if not d:
        return "–", NOT_RUN
    rows = {k: v for k, v in d.items() if isinstance(v, dict) and "mse_ebm" in v}
    ok = all(v["mse_ebm"] < v["mse_baseline_unseen"] for v in rows.values())
    return "; ".join(f"{k.replace('_', ' x ')}: EBM {v['mse_ebm']:.3f} vs generator {v['mse_baseline_unseen']:.3f}"
                     for k, v in rows.items()), verdict(ok and bool(rows))


CLAIMS = [
    Claim("Generation: samples close to the data", "generation", "CIFAR-10 FID 40.58 (uncond.), 37.9 (cond.); Figure 4",
          "single-model FD <= 2x the real-vs-real floor (conditional, with asked class >= 0.95) or 3x "
          "(unconditional)", generation_quality),
    Claim("Historical ensemble improves on one model", "generation", "FID 40.58 -> 38.2 (10 checkpoints)",
          "ensemble FD <= single-model FD for every image variant", ensemble_gain),
    Claim("Denoising and inpainting without memorisation", "restoration", "figure only (Figure 5)",
          "restored MSE < corrupted MSE on held-out images, and held-out/train MSE <= 1.25, for both tasks",
          restoration),
    Claim("Cross-class chains reach the asked class", "cross-class", "figure only (Figure 6)",
          "share of chains the classifier puts in the asked class >= 0.8", crossclass),
    Claim("Out-of-distribution detection by -E(x)", "ood", "mean AUROC 0.62 (CIFAR-10 EBM; Figure 10)",
          "mean AUROC over the sets shared with the paper >= 0.62", ood),
    Claim("EBM classifier more robust than a plain CNN", "robustness", "figure only (Figure 8)",
          "EBM (with Langevin refinement) accuracy, averaged over the attacked epsilons of the sweep, >= the "
          "CNN's, L-inf and L2", robustness),
    Claim("Trajectory rollouts stay closest to the data", "trajectories", "figure only (Figure 13)",
          "conditional EBM motion and state FD <= FC's and LSTM's at every horizon; window EBM motion FD <= FC's "
          "at 20 steps", trajectories),
    Claim("Continual learning without forgetting", "continual", "EBM 64.99% vs 19-24% (EWC, SI, MAS, LwF); Table 1",
          "EBM accuracy >= 3x fine-tuning's and above every regulariser", continual),
    Claim("Summed factor EBMs show every asked factor", "composition", "figure only (Figure 15)",
          "summed-energy samples showing all asked factors: size+position >= 0.75, shape+position >= 0.7, "
          "size+shape+position >= 0.6", composition),
    Claim("Cross-product generalisation", "composition", "figure only (Figure 16)",
          "summed EBM MSE on unseen pairs < a conditional generator trained with 0% of them, every experiment",
          crossproduct),
]


def scorecard(m: Metrics) -> list[tuple[Claim, str, str]]:
    """Each claim with (our number, verdict); a rule that finds malformed metrics says `not run`."""
    out = []
    for claim in CLAIMS:
        try:
            ours, v = claim.judge(m)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            ours, v = "metrics incomplete", NOT_RUN
        out.append((claim, ours, v))
    return out
