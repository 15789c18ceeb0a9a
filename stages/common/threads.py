"""CPU threads per stage when queued experiments run side by side.

`dvc queue start -j N` runs N experiments at once, each in its own
``.dvc/tmp/exps/tmpXXXX`` workspace; torch's default of one intra-op thread per
core in every one of them oversubscribes the cores (measured on 2 cores, two
processes training the digits model: 1.63 s per iteration each, against 0.16 s
with one thread each). So a stage in such a workspace takes its share of the
cores. An explicit ``OMP_NUM_THREADS`` always wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def queued_workspaces(cwd: Path, dvc_root: str | None) -> int:
    """How many DVC temporary experiment workspaces exist, if ``cwd`` is one; else 0."""
    if not dvc_root:
        return 0
    exps = Path(dvc_root).resolve() / ".dvc" / "tmp" / "exps"
    if cwd.resolve().parent != exps:
        return 0
    return sum(1 for p in exps.glob("tmp*") if p.is_dir())


def share_cores() -> int | None:
    """Set torch's thread count to this workspace's share of the cores; the count set, or None."""
    if "OMP_NUM_THREADS" in os.environ:
        return None
    running = queued_workspaces(Path.cwd(), os.environ.get("DVC_ROOT"))
    if running < 2:
        return None
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, cores // running)
    torch.set_num_threads(threads)
    print(f"{running} queued experiments side by side: torch uses {threads} of {cores} cores' threads here", flush=True)
    return threads
