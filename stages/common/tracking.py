"""One MLflow run per stage execution, nested under one parent run per DVC experiment,
and one writer for DVC metrics + MLflow.

The parent run is named after the DVC experiment (``workspace`` for a plain ``dvc repro``,
the experiment's name for ``dvc exp run``) and keyed by it and the sha256 of its params.yaml,
so every stage of one experiment nests under the same row; the ``report`` stage, which runs
last, puts every param and every metric of the pipeline on it (``log_experiment``), read
from the files, so the row is complete also when DVC skipped stages.

The tracking URI and the artifact location are anchored at the repository root
(``DVC_ROOT`` inside DVC), so queued and temporary DVC experiments, which run
in ``.dvc/tmp/exps/tmpXXXX``, log into the root's ``mlflow.db`` too.
If MLflow fails (a locked database, say), the stage warns once and goes on:
DVC's outputs are the record of results, MLflow is for browsing them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import subprocess
import sys
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from stages.common.io import write_json
from stages.common.main import deferred_stop
from stages.common.params import flatten

EXPERIMENT = "igebm"
HTTP_TIMEOUT = 5  # seconds; a tracking server slower than this is treated as down
# What the experiment is, for MLflow's API and the UIs that read it. MLflow 3.17's UI does not: it opens on the
# page of its own GenAI / Model training switch (URL ?workflowType=machine_learning; README)
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
PARENT_TAG = "igebm.parent_key"  # on the one parent run per DVC experiment: "<name>:<params sha256[:12]>"
PARAM_CHARS = 6000  # MLflow's limit on a param value


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


def experiment_name() -> str:
    """The DVC experiment this process belongs to: its name under `dvc exp run`, else the workspace."""
    return os.environ.get("DVC_EXP_NAME") or "workspace"


def _params_digest() -> str:
    """sha256 of the params file the stage runs with (the experiment's own copy under `dvc exp run`)."""
    try:
        return hashlib.sha256(Path("params.yaml").read_bytes()).hexdigest()
    except OSError:
        return ""


def _experiment_id(mlflow) -> str:
    """The igebm experiment, created with its kind (and the kind added to one made before it had one)."""
    exp = mlflow.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return mlflow.create_experiment(EXPERIMENT, artifact_location=(repo_root() / "mlruns").as_uri(),
                                        tags=EXPERIMENT_KIND)
    for key, value in EXPERIMENT_KIND.items():
        if exp.tags.get(key) != value:
            mlflow.MlflowClient().set_experiment_tag(exp.experiment_id, key, value)
    return exp.experiment_id


def _parent_run(mlflow, experiment_id: str, commit: str) -> str:
    """The id of this DVC experiment's parent run, created on its first stage."""
    client = mlflow.MlflowClient()
    name, digest = experiment_name(), _params_digest()
    key = f"{name}:{digest[:12]}"
    found = client.search_runs([experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{key}'", max_results=1)
    if found:
        return found[0].info.run_id
    run = client.create_run(experiment_id, run_name=name, tags={
        PARENT_TAG: key, "dvc.exp_name": name, "dvc.params_sha256": digest, "git.commit": commit,
        "dvc.baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
        "mlflow.note.content": f"DVC experiment `{name}`: every param and metric of the pipeline; "
                               "its stages are the nested runs."})
    client.set_terminated(run.info.run_id, "FINISHED")  # a container: its stages carry the run times
    return run.info.run_id


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=repo_root(), timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class StageRun:
    """The MLflow run of one stage execution; every call is safe if MLflow is down."""

    def __init__(self, stage: str, variant: str | None, params: dict, system_metrics: bool = False):
        self.stage, self.variant = stage, variant
        self.mlflow = None
        self.parent_id = self.run_id = None
        self._warned = False
        self._start(params, system_metrics)

    def _warn(self, e: Exception) -> None:
        if not self._warned:
            why = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            print(f"warning: MLflow tracking unavailable ({type(e).__name__}: {why}); outputs are still written",
                  file=sys.stderr)
            self._warned = True
        self.mlflow = None

    def _start(self, params: dict, system_metrics: bool) -> None:
        try:
            for quiet in ("alembic", "mlflow.system_metrics", "mlflow.store.db.utils"):
                logging.getLogger(quiet).setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", module="mlflow")
            uri = tracking_uri()
            _check_reachable(uri)
            # A server that goes away mid-stage: a few short tries, not MLflow's minutes of retries (the user's
            # own settings win).
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(4 * HTTP_TIMEOUT))
            import mlflow

            mlflow.set_tracking_uri(uri)
            if system_metrics and "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL" not in os.environ:
                mlflow.set_system_metrics_sampling_interval(5)  # seconds; a 3-minute training gets ~36 points
            commit = _git_commit()
            # queued experiments side by side may be the first to touch mlflow.db, or to make the parent
            with _start_lock(uri):
                experiment_id = _experiment_id(mlflow)
                mlflow.set_experiment(experiment_id=experiment_id)
                self.parent_id = _parent_run(mlflow, experiment_id, commit)
            name = f"{self.stage}@{self.variant}" if self.variant else self.stage
            tags = {
                "stage": self.stage,
                "variant": self.variant or "",
                "dvc.stage": os.environ.get("DVC_STAGE", name),
                "dvc.exp_name": experiment_name(),
                "dvc.baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
                "git.commit": commit,
                "mlflow.parentRunId": self.parent_id,  # nested by tag: start_run's parent must still be running
            }
            self.run_id = mlflow.start_run(run_name=name, tags=tags, log_system_metrics=system_metrics).info.run_id
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            self.mlflow = mlflow
        except Exception as e:
            self._warn(e)

    def _call(self, fn: str, *args, **kwargs) -> None:
        if self.mlflow is None:
            return
        try:
            with deferred_stop():
                getattr(self.mlflow, fn)(*args, **kwargs)
        except Exception as e:
            self._warn(e)

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        self._call("log_metrics", {k: float(v) for k, v in metrics.items()}, step=step)

    def log_artifact(self, path: Path, subdir: str | None = None) -> None:
        self._call("log_artifact", str(path), subdir)

    def log_artifacts(self, path: Path, subdir: str | None = None) -> None:
        self._call("log_artifacts", str(path), subdir)

    def log_table(self, columns: dict[str, list], path: str) -> None:
        """A table (column -> values) as the run's artifact ``path``, shown as a table in the UI."""
        self._call("log_table", data=columns, artifact_file=path)

    def log_image(self, image, key: str, step: int) -> None:
        """An image (uint8 array [H, W(, C)]) in the run's image series ``key``, by step."""
        self._call("log_image", image, key=key, step=step)

    def log_input(self, features, name: str, source: str, sha256: str, context: str = "training") -> None:
        """The dataset a stage read, digest = its file's sha256, so two runs on the same data match."""
        if self.mlflow is None:
            return
        try:
            import mlflow.data

            ds = mlflow.data.from_numpy(features, source=source, name=name, digest=sha256[:36])
            with deferred_stop():
                self.mlflow.log_input(ds, context=context)
        except Exception as e:
            self._warn(e)

    def log_model(self, model, registered_name: str, input_example, label_example=None) -> None:
        """The network as an MLflow PyTorch model (signature from ``input_example``, the ``ebm`` package with
        it, so `mlflow.pytorch.load_model` rebuilds it anywhere) registered as ``registered_name``.
        A conditional energy's label (``label_example``) is its forward's second argument; the signature
        describes the input alone."""
        if self.mlflow is None:
            return
        try:
            import copy

            import torch

            net = copy.deepcopy(model).cpu().eval()
            with torch.no_grad():
                y = None if label_example is None else torch.as_tensor(label_example)
                energy = net(torch.as_tensor(input_example), y).numpy()
            # Quiet: MLflow checks the input example by calling forward(x) alone, which a conditional energy
            # refuses (a traceback that says nothing about the logged model), and warns that pickle, chosen
            # above on purpose, runs code when loaded (so does any PyTorch module file; load your own models)
            quiet = logging.getLogger("mlflow")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                with deferred_stop():
                    self._log_pytorch_model(net, registered_name, input_example, energy)
            finally:
                quiet.setLevel(level)
        except Exception as e:
            self._warn(e)

    @staticmethod
    def _log_pytorch_model(net, registered_name: str, input_example, energy) -> None:
        import mlflow.pytorch
        import torch
        from mlflow.models import infer_signature

        mlflow.pytorch.log_model(
            net, name="model", signature=infer_signature(input_example, energy), input_example=input_example,
            code_paths=[str(Path(__file__).resolve().parents[2] / "ebm")],
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", f"numpy=={np.__version__}"],
            registered_model_name=registered_name,
            serialization_format="pickle")  # the module itself: forward(x, y) keeps its label argument

    def log_experiment(self, params: dict, metrics: dict) -> None:
        """Every param and every metric of the pipeline on this DVC experiment's parent run."""
        if self.mlflow is None or self.parent_id is None:
            return
        try:
            import time

            from mlflow.entities import Metric, Param

            client, now = self.mlflow.MlflowClient(), int(time.time() * 1000)
            ps = [Param(k, str(v)[:PARAM_CHARS]) for k, v in params.items()]
            ms = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
            for i in range(0, len(ps), 100):  # MLflow's batch limits
                client.log_batch(self.parent_id, params=ps[i:i + 100])
            for i in range(0, len(ms), 1000):
                client.log_batch(self.parent_id, metrics=ms[i:i + 1000])
            client.set_terminated(self.parent_id, "FINISHED")  # its end time: the last report
        except Exception as e:
            self._warn(e)

    def write_metrics(self, path: Path, metrics: dict) -> None:
        """The one writer: the same dict to the DVC metrics JSON and to MLflow."""
        write_json(path, metrics)
        flat = {k: v for k, v in flatten(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.log_metrics(flat)

    def end(self, status: str) -> None:
        self._call("end_run", status=status)
        if self.run_id is not None and self.mlflow is None:
            # tracking failed midway (a locked database, say): one more try, so the run is not left RUNNING
            try:
                import mlflow

                with deferred_stop():
                    mlflow.MlflowClient().set_terminated(self.run_id, status)
            except Exception:
                pass


@contextlib.contextmanager
def stage_run(stage: str, variant: str | None, params: dict, system_metrics: bool = False) -> Iterator[StageRun]:
    """A StageRun that ends FINISHED, or FAILED if the stage raises; ``system_metrics``: CPU, memory (and GPU)
    use sampled through the run (training stages)."""
    run = StageRun(stage, variant, params, system_metrics)
    try:
        yield run
    except BaseException:
        run.end("FAILED")
        raise
    run.end("FINISHED")
