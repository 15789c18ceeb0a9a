"""Screenshots of the MLflow UI in headless Chromium: the runs page and the compare view of two experiments.

    python -m bench.mlflow_ui                         # this repository's mlflow.db, the two newest experiments
    python -m bench.mlflow_ui --runs workspace hot    # these two experiments' parent rows
    python -m bench.mlflow_ui --out /tmp/shots        # where the PNGs go (default docs/images/mlflow)

Starts `mlflow ui` on the SQLite store, waits until it answers, and has Chromium (Debian: `apt-get
install chromium`) draw each page: runs.png (the experiment's runs, parent rows with their stage runs
folded under them) and compare.png (the two parent rows side by side). It checks the UI as a user
sees it, so it is not a test: a browser and a free port are more than CI has.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"error: {url} did not answer within {timeout:.0f} s")


def screenshot(browser: str, url: str, path: Path, size=(1600, 1000), wait_ms: int = 20000) -> None:
    subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={size[0]},{size[1]}", f"--virtual-time-budget={wait_ms}",
                    f"--screenshot={path}", url], check=True, capture_output=True, timeout=180)
    print(f"{path} ({path.stat().st_size // 1024} KiB) <- {url}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=ROOT / "mlflow.db")
    ap.add_argument("--runs", nargs=2, metavar="EXPERIMENT", help="two parent rows (DVC experiment names)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "mlflow")
    args = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("error: no Chromium found; apt-get install chromium")
    if not args.db.is_file():
        raise SystemExit(f"error: {args.db}: no MLflow database; run `dvc repro` first")
    import mlflow

    uri = f"sqlite:///{args.db.resolve()}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("igebm")
    parents = client.search_runs([exp.experiment_id], filter_string="tags.`igebm.parent_key` != ''",
                                 order_by=["attributes.end_time DESC"])
    if args.runs:
        picked = [next((r for r in parents if r.info.run_name == n), None) for n in args.runs]
        if None in picked:
            raise SystemExit(f"error: no parent row named {args.runs[picked.index(None)]!r} "
                             f"(there are: {', '.join(r.info.run_name for r in parents)})")
    else:
        picked = parents[:2]
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/health")
        # MLflow 3.17's UI picks GenAI or model training by its sidebar switch (default GenAI, remembered by the
        # browser), not by the experiment's kind tag; the URL parameter sets it for a fresh browser
        screenshot(browser, f"{base}/#/experiments/{exp.experiment_id}?workflowType=machine_learning",
                   args.out / "runs.png")
        if len(picked) == 2:
            q = urllib.parse.urlencode({"runs": json.dumps([r.info.run_id for r in picked]),
                                        "experiments": json.dumps([exp.experiment_id])})
            screenshot(browser, f"{base}/#/compare-runs?{q}&workflowType=machine_learning", args.out / "compare.png",
                       size=(1600, 2400))
            print("compared:", " vs ".join(r.info.run_name for r in picked))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
