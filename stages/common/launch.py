"""Running a stage as several processes: re-launch under torchrun, and MLflow on rank 0 only."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable

import torch

from ebm.accel import DistContext, env_context, init_distributed, resolve_device, shutdown
from stages.common.io import UserError
from stages.common.resume import exclusive
from stages.common.tracking import stage_run


def under_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or "WORLD_SIZE" in os.environ


def relaunch(nproc: int, module: str, argv: list[str], what: str) -> None:
    """Run ``python -m module argv`` as ``nproc`` local processes under torchrun; wait for them.

    Multi-node runs call torchrun by hand (its --nnodes/--node_rank/--rdzv-* flags);
    the stage then sees WORLD_SIZE and does not re-launch.
    """
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", module, *argv]
    print(f"{what}: {nproc} processes: {' '.join(cmd[1:])}", flush=True)
    code = subprocess.call(cmd)
    if code != 0:
        raise UserError(f"{what}: a torchrun worker failed (exit {code}); its error is printed above")


def run_distributed(what: str, module: str, argv: list[str], lock: str, nproc: int, backend: str, device: str,
                    section: str, body: Callable[[DistContext, torch.device], None]) -> None:
    """``body(ctx, device)`` in this process, or, with ``nproc`` > 1, in ``nproc`` torchrun workers of
    ``python -m module argv`` (each then comes back here under torchrun and runs ``body``). One run at a
    time per ``lock`` (.resume/<lock>.lock; a second is refused naming ``python -m module argv``); the
    workers run under their launcher's. ``device``: the section's ``device`` param (``section`` names it
    in an error)."""
    command = " ".join(["python -m", module, *argv])
    held = contextlib.nullcontext() if under_torchrun() else exclusive(lock, command)
    with held:
        if nproc > 1 and not under_torchrun():
            return relaunch(nproc, module, argv, what)
        ctx = env_context()
        try:
            resolved = resolve_device(device, ctx.local_rank)
        except ValueError as e:
            raise UserError(f"{section}.{e}") from None
        init_distributed(ctx, backend, resolved)
        try:
            body(ctx, resolved)
        finally:
            shutdown(ctx)


class NullRun:
    """The tracking run of ranks other than 0: every call does nothing."""

    def log_metrics(self, *args, **kwargs) -> None: ...

    def log_artifact(self, *args, **kwargs) -> None: ...

    def write_metrics(self, *args, **kwargs) -> None: ...

    def log_artifacts(self, *args, **kwargs) -> None: ...

    def log_image(self, *args, **kwargs) -> None: ...

    def log_input(self, *args, **kwargs) -> None: ...

    def log_model(self, *args, **kwargs) -> None: ...


@contextlib.contextmanager
def main_rank_run(ctx: DistContext, stage: str, variant: str | None, params: dict, system_metrics: bool = False):
    """One MLflow run per stage execution: rank 0 logs, the others get a NullRun."""
    if ctx.main:
        with stage_run(stage, variant, params, system_metrics) as run:
            yield run
    else:
        yield NullRun()
