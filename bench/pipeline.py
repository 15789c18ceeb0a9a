"""Per-stage cost of one whole `dvc repro`, from a run this benchmark makes.

    python -m bench.pipeline            # the embedded default (~30 min on 2 cores)
    python -m bench.pipeline --tiny     # the end-to-end test's tiny params (~3 min): checks the benchmark itself

It copies the project's files (without dvc.lock and outputs) into a temporary git repository and runs
every stage there, one at a time in DVC's order (`dvc repro --single-item <stage>`). Per stage:

* wall: the stage's `dvc repro` call, end to end;
* CPU: user + system time of every process of that call (rusage of the reaped children);
* start-up: what the stage pays before its own work, measured beside it: DVC's per-call overhead (the same
  call once more, now a no-op) plus the wall time of `python -c "import <the stage's module>"`.

Then a no-op `dvc repro` of the whole DAG, and the machine's dense fp32 matmul rate in the same run, so tables
from different machines can be compared. Prints a markdown table (docs/speed.md keeps one).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def env() -> dict:
    out = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}
    return {k: v for k, v in out.items() if not k.startswith("MLFLOW_") and k != "DVC_ROOT"}


def run(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the children, stdout) of one command; raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        raise SystemExit(f"error: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), r.stdout


def copy_project(dest: Path, tiny: bool) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        if f == "dvc.lock" or f.startswith(("metrics/", "plots/", "report/")) or not (ROOT / f).is_file():
            continue
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)
    if tiny:
        import yaml

        from tests.tiny_params import tiny as shrink

        params = yaml.safe_load((dest / "params.yaml").read_text())
        (dest / "params.yaml").write_text(yaml.safe_dump(shrink(params), sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=bench@igebm", "-c", "user.name=bench", "commit", "-qm", "bench"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)


def stage_order(repo: Path) -> list[tuple[str, str]]:
    """(stage, module) with every stage after the stages it depends on (DVC's own graph)."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(repo)) as r:
        graph = r.index.graph  # edges point from a stage to the stages it depends on
        stages = [s for s in reversed(list(nx.topological_sort(graph))) if getattr(s, "cmd", None)]
        found = [(s.name, m[1]) for s in stages if (m := re.search(r"python -m (\S+)", s.cmd))]
    if not found:
        raise SystemExit("error: dvc.yaml lists no `python -m` stages")
    return found


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiny", action="store_true", help="the end-to-end test's tiny params")
    p.add_argument("--keep", type=Path, help="run in this (new) directory and keep it")
    args = p.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    repo = work / "project"
    copy_project(repo, args.tiny)
    rows, imports = [], {}
    stages = stage_order(repo)
    for i, (stage, module) in enumerate(stages, 1):
        print(f"[{i}/{len(stages)}] {stage}", file=sys.stderr, flush=True)
        wall, cpu, _ = run(["dvc", "repro", "--single-item", stage], repo)
        overhead = run(["dvc", "repro", "--single-item", stage], repo)[0]  # a no-op now: DVC's own cost
        if module not in imports:
            imports[module] = run([sys.executable, "-c", f"import {module}"], repo)[0]
        rows.append((stage, wall, cpu, overhead + imports[module]))
    noop = run(["dvc", "repro"], repo)[0]
    gflops = matmul_gflops()
    total_wall, total_cpu, total_start = (sum(r[k] for r in rows) for k in (1, 2, 3))
    print(f"\n`python -m bench.pipeline{' --tiny' if args.tiny else ''}`: {os.cpu_count()} cores, "
          f"dense fp32 matmul {gflops:.1f} GFLOP/s (1024x1024, torch {__import__('torch').__version__})\n")
    print("| stage | wall s | CPU s | start-up s | start-up share |")
    print("|---|---:|---:|---:|---:|")
    for stage, wall, cpu, start in sorted(rows, key=lambda r: -r[1]):
        print(f"| {stage} | {wall:.1f} | {cpu:.1f} | {start:.1f} | {start / wall:.0%} |")
    print(f"| **total ({len(rows)} stages)** | **{total_wall:.1f}** | **{total_cpu:.1f}** | **{total_start:.1f}** "
          f"| **{total_start / total_wall:.0%}** |")
    print(f"\nno-op `dvc repro` of the whole DAG: {noop:.1f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
