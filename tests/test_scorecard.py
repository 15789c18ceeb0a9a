"""The scorecard's verdict rules: metrics that reproduce each claim, metrics that do not."""

import copy
import re
from pathlib import Path

import pytest

from stages.report.scorecard import CLAIMS, NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, scorecard

ROOT = Path(__file__).resolve().parents[1]

GOOD = {
    "evaluate/digits_cond.json": {"fd_floor": 3.0, "fd_single": 5.5, "fd_ensemble": 5.0,
                                  "cond_accuracy_single": 0.96, "cond_accuracy_ensemble": 0.97},
    "evaluate/digits_uncond.json": {"fd_floor": 3.0, "fd_single": 8.0, "fd_ensemble": 7.5},
    "restore/digits_cond.json": {
        "denoise_test": {"mse": 0.02, "mse_corrupted": 0.1}, "inpaint_test": {"mse": 0.03, "mse_corrupted": 0.2},
        "denoise_test_over_train_mse": 1.05, "inpaint_test_over_train_mse": 1.1},
    "crossclass/digits_cond.json": {"new_label_share": 0.85, "steps": 400},
    "ood/digits_uncond.json": {"auroc_mean": 0.8, "auroc_mean_paper_sets": 0.7},
    "robustness/digits_cond.json": {
        "linf": {"ebm_refine": {"eps_0": 0.9, "eps_0.3": 0.4}, "classifier": {"eps_0": 0.97, "eps_0.3": 0.1}},
        "l2": {"ebm_refine": {"eps_0": 0.9, "eps_2": 0.5}, "classifier": {"eps_0": 0.97, "eps_2": 0.2}}},
    "evaluate_traj.json": {"conditional": {
        f: {"ebm_cond": {"h1": 1.0, "h20": 2.5, "h40": 3.0}, "fc": {"h1": 2.0, "h20": 7.0, "h40": 9.0},
            "lstm": {"h1": 1.5, "h20": 3.0, "h40": 4.0}, "ebm_uncond": {"h1": 3.0, "h20": 6.5, "h40": 10.0}}
        for f in ("motion", "state")}},
    "continual.json": {"methods": {"ebm": {"acc_mean": 66.0}, "finetune": {"acc_mean": 19.0},
                                   "ewc": {"acc_mean": 19.5}, "si": {"acc_mean": 19.2}, "mas": {"acc_mean": 19.4},
                                   "lwf": {"acc_mean": 21.0}}},
    "compose.json": {"sum": {"size_position": {"all": 0.8}, "shape_position": {"all": 0.75},
                             "size_shape_position": {"all": 0.65}}},
    "crossproduct.json": {"size_position": {"mse_ebm": 0.05, "mse_baseline_unseen": 0.09},
                          "shape_position": {"mse_ebm": 0.05, "mse_baseline_unseen": 0.07}},
}

# One change per claim that breaks it, in CLAIMS order.
BREAKS = [
    ("evaluate/digits_uncond.json", ["fd_single"], 10.0),              # 3.3x the floor
    ("evaluate/digits_cond.json", ["fd_ensemble"], 6.0),               # ensemble worse than one model
    ("restore/digits_cond.json", ["inpaint_test_over_train_mse"], 1.6),  # memorises the training set
    ("crossclass/digits_cond.json", ["new_label_share"], 0.5),
    ("ood/digits_uncond.json", ["auroc_mean_paper_sets"], 0.55),
    ("robustness/digits_cond.json", ["l2", "classifier", "eps_2"], 0.6),
    ("evaluate_traj.json", ["conditional", "state", "ebm_cond", "h40"], 5.0),  # loses to the LSTM at 40
    ("continual.json", ["methods", "ebm", "acc_mean"], 45.0),          # < 3x fine-tuning
    ("compose.json", ["sum", "size_shape_position", "all"], 0.3),
    ("crossproduct.json", ["shape_position", "mse_ebm"], 0.08),
]


def reader(files: dict):
    return lambda rel: copy.deepcopy(files.get(rel))


def test_every_claim_reproduced_on_good_metrics():
    card = scorecard(reader(GOOD))
    assert [v for _, _, v in card] == [REPRODUCED] * len(CLAIMS), [(c.name, o, v) for c, o, v in card]
    assert all(re.search(r"\d", ours) for _, ours, _ in card)  # every row shows our number


@pytest.mark.parametrize("i", range(len(BREAKS)), ids=[c.name for c in CLAIMS])
def test_each_rule_fails_when_its_claim_does_not_hold(i):
    path, keys, value = BREAKS[i]
    files = copy.deepcopy(GOOD)
    d = files[path]
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value
    verdicts = [v for _, _, v in scorecard(reader(files))]
    assert verdicts[i] == NOT_REPRODUCED
    assert verdicts[:i] + verdicts[i + 1:] == [REPRODUCED] * (len(CLAIMS) - 1)


def test_a_window_ebm_behind_fc_at_20_steps_breaks_the_trajectory_claim():
    files = copy.deepcopy(GOOD)
    files["evaluate_traj.json"]["conditional"]["motion"]["ebm_uncond"]["h20"] = 7.5  # FC: 7.0
    card = {c.name: (ours, v) for c, ours, v in scorecard(reader(files))}
    ours, v = card["Trajectory rollouts stay closest to the data"]
    assert v == NOT_REPRODUCED and "window EBM at 20 steps 7.50 vs FC 7.00" in ours


def test_missing_or_incomparable_metrics_say_so():
    assert {v for _, _, v in scorecard(reader({}))} == {NOT_RUN}
    files = copy.deepcopy(GOOD)
    files["ood/digits_uncond.json"]["auroc_mean_paper_sets"] = float("nan")
    del files["robustness/digits_cond.json"]["linf"]["classifier"]  # paper scale: no digits CNN
    files["evaluate/digits_cond.json"].pop("fd_single")               # malformed
    verdicts = {c.name: v for c, _, v in scorecard(reader(files))}
    assert verdicts["Out-of-distribution detection by -E(x)"] == NOT_COMPARABLE
    assert verdicts["EBM classifier more robust than a plain CNN"] == NOT_COMPARABLE
    assert verdicts["Generation: samples close to the data"] == NOT_RUN


def test_readme_scorecard_is_the_one_the_committed_metrics_give(monkeypatch):
    monkeypatch.chdir(ROOT)
    from stages.report.readme import README, block, current

    assert current(README.read_text()) == block(), "README scorecard is stale: run `python -m stages.report.readme`"


def test_crossclass_row_shows_the_noise_sweep_but_judges_the_protocols_noise():
    files = copy.deepcopy(GOOD)
    files["crossclass/digits_cond.json"] = {
        "new_label_share": 0.47, "steps": 400, "noise_std": 0.005,
        "by_noise": {"0.005": {"new_label_share": 0.47}, "0.05": {"new_label_share": 0.86}}}
    row = next((ours, v) for c, ours, v in scorecard(reader(files)) if c.section == "cross-class")
    assert "0.47" in row[0] and "0.86 at noise 0.05" in row[0]
    assert row[1] == NOT_REPRODUCED  # a hotter chain that passes does not change the verdict
