"""One MLflow run per stage execution, and one writer for DVC metrics + MLflow.

The tracking URI and the artifact location are anchored at the repository root
(``DVC_ROOT`` inside DVC), so queued and temporary DVC experiments, which run
in ``.dvc/tmp/exps/tmpXXXX``, log into the root's ``mlflow.db`` too.
If MLflow fails (a locked database, say), the stage warns once and goes on:
DVC's outputs are the record of results, MLflow is for browsing them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

from stages.common.io import write_json
from stages.common.params import flatten

EXPERIMENT = "igebm"
HTTP_TIMEOUT = 5  # seconds; a tracking server slower than this is treated as down


def repo_root() -> Path:
    return Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{repo_root() / 'mlflow.db'}"


def _start_lock(uri: str) -> contextlib.AbstractContextManager:
    """Serialise run starts on a SQLite store: processes that create its tables at once corrupt the migration."""
    if not uri.startswith("sqlite:///"):
        return contextlib.nullcontext()
    from filelock import FileLock

    return FileLock(uri.removeprefix("sqlite:///") + ".lock", timeout=120)


def _check_reachable(uri: str) -> None:
    """Raise at once if the store cannot work: MLflow itself retries for minutes before giving up."""
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        if db.is_dir() or not db.parent.is_dir():
            raise OSError(f"{db}: not a SQLite database file (a directory, or its folder is missing)")
    elif uri.startswith(("http://", "https://")):
        url = urllib.parse.urlsplit(uri)
        try:
            socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)),
                                     timeout=HTTP_TIMEOUT).close()
        except OSError as e:
            raise ConnectionError(f"{url.netloc} unreachable ({e})") from None


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=repo_root(), timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class StageRun:
    """The MLflow run of one stage execution; every call is safe if MLflow is down."""

    def __init__(self, stage: str, variant: str | None, params: dict):
        self.stage, self.variant = stage, variant
        self.mlflow = None
        self._warned = False
        self._start(params)

    def _warn(self, e: Exception) -> None:
        if not self._warned:
            why = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            print(f"warning: MLflow tracking unavailable ({type(e).__name__}: {why}); outputs are still written",
                  file=sys.stderr)
            self._warned = True
        self.mlflow = None

    def _start(self, params: dict) -> None:
        try:
            logging.getLogger("alembic").setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", module="mlflow")
            uri = tracking_uri()
            _check_reachable(uri)
            # A server that goes away mid-stage: a few short tries, not MLflow's minutes of retries (the user's
            # own settings win).
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(4 * HTTP_TIMEOUT))
            import mlflow

            mlflow.set_tracking_uri(uri)
            with _start_lock(uri):  # queued experiments side by side may be the first to touch mlflow.db
                if mlflow.get_experiment_by_name(EXPERIMENT) is None:
                    mlflow.create_experiment(EXPERIMENT, artifact_location=(repo_root() / "mlruns").as_uri())
                mlflow.set_experiment(EXPERIMENT)
            name = f"{self.stage}@{self.variant}" if self.variant else self.stage
            tags = {
                "stage": self.stage,
                "variant": self.variant or "",
                "dvc.stage": os.environ.get("DVC_STAGE", name),
                "dvc.exp_name": os.environ.get("DVC_EXP_NAME", "workspace"),
                "dvc.baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
                "git.commit": _git_commit(),
            }
            mlflow.start_run(run_name=name, tags=tags)
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            self.mlflow = mlflow
        except Exception as e:
            self._warn(e)

    def _call(self, fn: str, *args, **kwargs) -> None:
        if self.mlflow is None:
            return
        try:
            getattr(self.mlflow, fn)(*args, **kwargs)
        except Exception as e:
            self._warn(e)

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        self._call("log_metrics", {k: float(v) for k, v in metrics.items()}, step=step)

    def log_artifact(self, path: Path, subdir: str | None = None) -> None:
        self._call("log_artifact", str(path), subdir)

    def write_metrics(self, path: Path, metrics: dict) -> None:
        """The one writer: the same dict to the DVC metrics JSON and to MLflow."""
        write_json(path, metrics)
        flat = {k: v for k, v in flatten(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.log_metrics(flat)

    def end(self, status: str) -> None:
        self._call("end_run", status=status)


@contextlib.contextmanager
def stage_run(stage: str, variant: str | None, params: dict) -> Iterator[StageRun]:
    """A StageRun that ends FINISHED, or FAILED if the stage raises."""
    run = StageRun(stage, variant, params)
    try:
        yield run
    except BaseException:
        run.end("FAILED")
        raise
    run.end("FINISHED")
