"""The committed results are the ones `dvc.lock` records: tracked by git, parseable, same md5.

`git log -p metrics/` is the project's lab notebook only if every metrics file a
stage declares is in git and is byte for byte what the last full `dvc repro`
wrote (README, "Contributing").
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def pipeline_outputs() -> list[tuple[str, object]]:
    """(stage, output) for every output dvc.yaml declares, read once for the module."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return [(s.addressing, o) for s in repo.index.stages for o in s.outs]


OUTPUTS = pipeline_outputs()
RESULTS = [(stage, o.def_path, bool(o.metric)) for stage, o in OUTPUTS if (o.metric or o.plot) and not o.use_cache]
METRICS = [(stage, path) for stage, path, metric in RESULTS if metric]
LOCK = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
TRACKED = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split())


def test_every_metric_and_plot_is_kept_in_git_not_the_dvc_cache():
    cached = [o.def_path for _, o in OUTPUTS
              if o.use_cache and (o.def_path.startswith(("metrics/", "plots/")) or o.metric or o.plot)]
    assert not cached, f"results in the DVC cache, invisible on a fresh clone: {cached}"
    assert METRICS, "dvc.yaml declares no metrics"


PLOTS = [(stage, path) for stage, path, metric in RESULTS if not metric]


@pytest.mark.parametrize("stage,path", PLOTS, ids=[p for _, p in PLOTS])
def test_plot_output_is_tracked_by_git(stage, path):
    """Curves and figures travel with the clone: a file is tracked, a folder has tracked files."""
    tracked = path in TRACKED or any(f.startswith(path.rstrip("/") + "/") for f in TRACKED)
    assert tracked, f"{path} ({stage}) is not in git (a stale .gitignore from when it was DVC-cached?)"


@pytest.mark.parametrize("stage,path", METRICS, ids=[p for _, p in METRICS])
def test_metrics_file_is_tracked_parses_and_matches_the_lock(stage, path):
    assert path in TRACKED, f"{path} is not committed to git"
    values = json.loads((ROOT / path).read_text())
    assert isinstance(values, dict) and values, f"{path} holds no metrics"
    locked = {o["path"]: o.get("md5") for o in LOCK.get(stage, {}).get("outs", [])}
    assert path in locked, f"dvc.lock has no entry for {path} (stage {stage})"
    assert hashlib.md5((ROOT / path).read_bytes()).hexdigest() == locked[path], \
        f"{path} differs from what dvc.lock records: commit the results of one full `dvc repro`"


def dvc_json(*args) -> object:
    r = subprocess.run(["dvc", *args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout or "{}")


def test_dvc_metrics_show_prints_every_declared_file():
    shown = dvc_json("metrics", "show")
    files = next(iter(shown.values()))["data"] if shown and "data" in next(iter(shown.values())) else {}
    for _, path in METRICS:
        assert "data" in files.get(path, {}), f"`dvc metrics show` has no values for {path}: {files.get(path)}"


def produced(dep: str, outs: list[str]) -> bool:
    """A dep that is a cached output of a stage, or a folder holding such outputs."""
    return any(o == dep or o.startswith(dep.rstrip("/") + "/") for o in outs)


def test_dvc_status_names_no_stage_whose_code_params_or_inputs_changed():
    """Only cached outputs may be absent (a fresh clone has no DVC cache); nothing the results came from moved."""
    outs = [o.def_path.rstrip("/") for _, o in OUTPUTS if o.use_cache]
    stale = {}
    for stage, changes in dvc_json("status").items():
        for change in changes:
            if isinstance(change, str):  # "changed checksum", "always changed", ...
                stale.setdefault(stage, []).append(change)
            elif isinstance(change, dict):
                if change.get("changed command"):
                    stale.setdefault(stage, []).append("changed command")
                for path, what in (change.get("changed deps") or {}).items():
                    if not produced(path, outs):  # an upstream cached output absent on a fresh clone is fine
                        stale.setdefault(stage, []).append({path: what})
                for path, what in (change.get("changed outs") or {}).items():
                    if path.startswith(("metrics/", "plots/", "report/index.md")):  # committed results
                        stale.setdefault(stage, []).append({path: what})
    assert not stale, f"committed results do not match the committed code/params/inputs: {stale}"
