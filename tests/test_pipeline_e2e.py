"""`dvc repro` of the whole DAG with tiny params, in a fresh git repository.

Checks: everything runs; a second `dvc repro` reruns nothing; `dvc exp run -S
train.step_size=...` reruns train/sample/evaluate but not download; `dvc exp
show` has the param beside the metrics; each stage execution is an MLflow run in
the root mlflow.db, tagged; two queued experiments run side by side
(`dvc queue start -j 2`), each on its share of the cores, and both land there.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.tiny_params import tiny

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def env_for_stages() -> dict:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}
    for key in [k for k in env if k == "DVC_ROOT" or k.startswith("MLFLOW_")]:
        env.pop(key)  # the stages must find the repository's own mlflow.db
    return env


def sh(repo, *cmd, check=True, timeout=900):
    r = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env_for_stages(), timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("e2e") / "project"
    files = sh(ROOT, "git", "ls-files", "-co", "--exclude-standard").stdout.split()
    for f in files:
        if f == "dvc.lock" or not (ROOT / f).is_file():
            continue
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    (repo / "params.yaml").write_text(yaml.safe_dump(tiny(params), sort_keys=False))
    sh(repo, "git", "init", "-q")
    sh(repo, "git", "config", "user.email", "test@example.com")
    sh(repo, "git", "config", "user.name", "test")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "tiny pipeline")
    return repo


def all_mlflow_runs(repo) -> list[dict]:
    assert (repo / "mlflow.db").is_file(), "the stages wrote no mlflow.db at the repository root"
    con = sqlite3.connect(repo / "mlflow.db")
    rows = con.execute("select run_uuid, name, status, start_time, end_time from runs").fetchall()
    out = {r: {"id": r, "name": n, "status": s, "start": t0, "end": t1, "tags": {}, "params": {}, "metrics": {}}
           for r, n, s, t0, t1 in rows}
    for table, field in (("tags", "tags"), ("params", "params"), ("latest_metrics", "metrics")):
        for r, k, v in con.execute(f"select run_uuid, key, value from {table}").fetchall():
            out[r][field][k] = v
    con.close()
    return list(out.values())


def parent_runs(repo) -> dict[str, dict]:
    """The one parent run per DVC experiment, by experiment name."""
    parents = [r for r in all_mlflow_runs(repo) if "igebm.parent_key" in r["tags"]]
    names = [r["name"] for r in parents]
    assert len(names) == len(set(names)), names  # one row per experiment
    return {r["name"]: r for r in parents}


def mlflow_runs(repo) -> list[dict]:
    """The stage runs, each nested under its experiment's parent."""
    parents = {r["id"]: r for r in parent_runs(repo).values()}
    runs = [r for r in all_mlflow_runs(repo) if r["id"] not in parents]
    for r in runs:
        parent = parents[r["tags"]["mlflow.parentRunId"]]
        assert parent["tags"]["dvc.exp_name"] == r["tags"]["dvc.exp_name"], (r["name"], parent["name"])
    return runs


def test_repro_then_nothing_reruns_then_exp_run_reruns_only_downstream(repo):
    first = sh(repo, "dvc", "repro")
    assert "MLflow tracking unavailable" not in first.stderr, first.stderr[-3000:]
    stages = ran(first.stdout)
    assert {"download@digits", "classifier", "train@digits_uncond", "train@digits_cond", "sample@digits_cond",
            "evaluate@digits_cond", "evaluate@digits_uncond"} <= stages
    metrics = json.loads((repo / "metrics/evaluate/digits_cond.json").read_text())
    assert {"fd_single", "fd_ensemble", "fd_floor", "cond_accuracy_single", "cond_accuracy_ensemble"} <= set(metrics)
    assert (repo / "plots/images/sample/digits_cond/ensemble.png").stat().st_size > 0
    assert len(list((repo / "models/digits_cond/history").glob("step_*.pt"))) == 3
    own = json.loads((repo / "metrics/compose.json").read_text())["own_factor"]  # each factor model alone
    assert set(own) == {"size", "shape", "position", "rotation"}
    assert all(0 <= v[k] <= 1 for v in own.values() for k in ("samples", "true_images", "chance"))

    again = sh(repo, "dvc", "repro")
    assert ran(again.stdout) == set()

    runs = mlflow_runs(repo)
    by_stage = {}
    for r in runs:
        by_stage.setdefault(r["tags"]["dvc.stage"], []).append(r)
    assert set(by_stage) == stages  # every stage execution logged ...
    # ... as one MLflow run, except `continual`, which logs one run per method
    assert all(len(v) == 1 for k, v in by_stage.items() if k != "continual")
    train = next(r for r in runs if r["name"] == "train@digits_cond")
    assert train["status"] == "FINISHED"
    assert train["tags"]["dvc.exp_name"] == "workspace" and len(train["tags"]["git.commit"]) == 40
    assert train["tags"]["variant"] == "digits_cond" and train["tags"]["stage"] == "train"
    # the workspace's row: every param and every metric of the pipeline, read from the files
    workspace = parent_runs(repo)["workspace"]
    assert workspace["params"]["train.step_size"] == "10.0"
    assert "evaluate.digits_cond.fd_single" in workspace["metrics"] and "compose.own_factor.size.samples" in workspace["metrics"]
    assert len(workspace["metrics"]) > 100

    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "baseline results")
    exp = sh(repo, "dvc", "exp", "run", "-n", "step5", "-S", "train.step_size=5")
    rerun = ran(exp.stdout)
    assert {"train@digits_uncond", "train@digits_cond", "sample@digits_cond", "evaluate@digits_cond"} <= rerun
    assert "download@digits" not in rerun and "classifier" not in rerun
    show = json.loads(sh(repo, "dvc", "exp", "show", "--json").stdout)
    text = json.dumps(show)
    assert '"step_size": 5' in text and "fd_single" in text
    names = {r["tags"].get("dvc.exp_name") for r in mlflow_runs(repo)}
    assert "step5" in names
    step5 = parent_runs(repo)["step5"]  # its own row, complete although DVC skipped most stages
    assert step5["params"]["train.step_size"] == "5" and "compose.own_factor.size.samples" in step5["metrics"]


def test_two_queued_experiments_run_side_by_side_and_both_land_in_the_root_mlflow_db(repo):
    sh(repo, "git", "checkout", "-q", "--", ".")
    names = ("queued7", "queued9")
    for name in names:
        # a test-time param: each experiment reruns sample, evaluate and report only (train's rerun under
        # `dvc exp run` is the test above), so the two queues' side-by-side run stays short; `++` sets a key
        # params.yaml leaves to train (stages.common.params.SHARED)
        sh(repo, "dvc", "exp", "run", "--queue", "-n", name, "-S", f"++sample.step_size={name[-1]}")
    # Not through sh(): the workers it spawns inherit its stdout/stderr, and a captured pipe would
    # keep `dvc queue start` waiting until the last worker exits.
    with open(repo.parent / "queue-start.log", "w") as log:
        subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=repo, stdout=log, stderr=subprocess.STDOUT,
                       env=env_for_stages(), timeout=300, check=True)
    deadline = time.time() + 900
    while time.time() < deadline:
        status = sh(repo, "dvc", "queue", "status").stdout
        rows = [line for line in status.splitlines() if line.split()[1:2] and line.split()[1] in names]
        if len(rows) == 2 and all("Success" in r or "Failed" in r for r in rows):
            break
        time.sleep(3)
    logs = {n: sh(repo, "dvc", "queue", "logs", n, check=False).stdout for n in names}
    assert status.count("Success") >= 2 and "Failed" not in status, status + "".join(v[-2000:] for v in logs.values())
    sh(repo, "dvc", "queue", "stop", "--kill", check=False)  # no idle worker outlives the test
    assert all("queued experiments side by side" in v for v in logs.values())  # each took its share of the cores

    runs = [r for r in mlflow_runs(repo) if r["tags"].get("dvc.exp_name") in names]
    for name in names:  # every stage the experiment reran logged a FINISHED run in the root database
        stages = {r["tags"]["dvc.stage"] for r in runs if r["tags"]["dvc.exp_name"] == name}
        assert {"sample@digits_cond", "evaluate@digits_cond", "sample@digits_uncond", "report"} <= stages, (name, stages)
        assert "train@digits_cond" not in stages, (name, stages)  # only what the param feeds reran
    assert all(r["status"] == "FINISHED" for r in runs)
    spans = {n: (min(r["start"] for r in runs if r["tags"]["dvc.exp_name"] == n),
                 max(r["end"] for r in runs if r["tags"]["dvc.exp_name"] == n)) for n in names}
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1, spans  # they ran at the same time
    assert not list((repo / ".dvc" / "tmp" / "exps").glob("**/mlflow.db"))
