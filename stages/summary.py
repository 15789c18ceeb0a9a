"""Prints where the results are and how to browse them (the last line of `make run`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dvc.repo import Repo

from stages.common.paths import PLOTS
from stages.common.tracking import repo_root


def flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = v
    return out


def main() -> None:
    """Every metric DVC tracks (the `metrics:` entries of dvc.yaml), one file per block, nothing cut."""
    print("\nResults (dvc metrics show, file by file)")
    with Repo() as repo:
        files = repo.metrics.show()[""]["data"]
    for path, entry in sorted(files.items()):
        values = entry.get("data")
        if values is None:
            print(f"  {path}: not written yet (run `dvc repro`)")
            continue
        shown = ", ".join(f"{k}={v:.4g}" for k, v in flat(values).items())
        print(f"  {path}")
        print(textwrap.fill(shown, width=110, initial_indent="      ", subsequent_indent="      "))
    images = sorted(PLOTS.rglob("*.png"))
    print(f"\n  {len(images)} figures under {PLOTS}/ (sample grids: {PLOTS}/images/sample/<variant>/)")
    report = Path("report/index.html")
    if report.exists():
        print(f"  report: {report}")
    print("\nCompare runs:   .venv/bin/dvc exp show --only-changed   |   .venv/bin/dvc metrics diff HEAD   |   "
          ".venv/bin/dvc plots show  (writes dvc_plots/index.html)")
    print(f"MLflow UI:      .venv/bin/mlflow ui --backend-store-uri sqlite:///{repo_root() / 'mlflow.db'}"
          "   then open http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning (one row per experiment)")


if __name__ == "__main__":
    main()
