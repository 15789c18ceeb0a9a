"""Prints where the results are and how to browse them (the last line of `make run`)."""

from __future__ import annotations

import json
from pathlib import Path

from stages.common.paths import METRICS, PLOTS
from stages.common.tracking import repo_root


def main() -> None:
    print("\nResults")
    for path in sorted(METRICS.rglob("*.json")):
        try:
            values = json.loads(path.read_text())
        except ValueError:
            continue
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items() if isinstance(v, (int, float)))[:160]
        print(f"  {path}: {shown}")
    images = sorted(PLOTS.rglob("*.png"))
    print(f"\n  {len(images)} figures under {PLOTS}/ (sample grids: {PLOTS}/images/sample/<variant>/)")
    report = Path("report/index.html")
    if report.exists():
        print(f"  report: {report}")
    print("\nCompare runs:   .venv/bin/dvc exp show   |   .venv/bin/dvc plots show  (writes dvc_plots/index.html)")
    print(f"MLflow UI:      .venv/bin/mlflow ui --backend-store-uri sqlite:///{repo_root() / 'mlflow.db'}"
          "   then open http://127.0.0.1:5000")


if __name__ == "__main__":
    main()
