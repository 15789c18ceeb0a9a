"""What a training stage leaves in MLflow: the run nested under its experiment's parent, the learning
rate and the negatives by step, the dataset, system metrics, and the EBM as a registered MLflow model
that `mlflow.pytorch.load_model` rebuilds and samples from."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from ebm.sampling import LangevinConfig, langevin
from tests.tiny_params import tiny

ROOT = Path(__file__).resolve().parents[1]


def stage(cwd: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow.db",
           "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL": "1"}
    r = subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "MLflow tracking unavailable" not in r.stderr, r.stderr[-3000:]


def test_a_trained_ebm_is_a_registered_mlflow_model_that_loads_back_and_samples(tmp_path):
    import mlflow

    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"].update(n_iters=8, history_every=2, log_every=2, history_size=3)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    stage(tmp_path, "stages.download", "--dataset", "digits")
    stage(tmp_path, "stages.train", "--variant", "digits_cond")

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name("igebm")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens on the runs
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    assert set(runs) == {"workspace", "download@digits", "train@digits_cond"}
    parent, train = runs["workspace"], runs["train@digits_cond"]
    assert train.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert runs["download@digits"].data.tags["mlflow.parentRunId"] == parent.info.run_id

    lr = client.get_metric_history(train.info.run_id, "lr")
    assert [m.step for m in lr] == [2, 4, 6, 8] and lr[0].value == params["train"]["lr"]
    images = [a.path for a in client.list_artifacts(train.info.run_id, "images")]
    assert {f"+step+{s}+" for s in (2, 4, 6, 8)} <= {p[p.index("+step+"):p.index("+timestamp")] + "+" for p in images
                                                    if p.endswith(".png")}
    meta = json.loads((tmp_path / "data/digits/meta.json").read_text())
    (dataset,) = [d.dataset for d in train.inputs.dataset_inputs]
    assert dataset.name == "digits" and dataset.digest == meta["sha256"][:36]
    assert any(k.startswith("system/") for k in train.data.metrics)
    history = [a.path for a in client.list_artifacts(train.info.run_id, "history")]
    assert history == [f"history/step_{s:06d}.pt" for s in (4, 6, 8)]

    (version,) = client.search_model_versions("name = 'igebm-digits_cond'")
    assert version.run_id == train.info.run_id
    model = mlflow.pytorch.load_model("models:/igebm-digits_cond/1")
    ckpt = torch.load(tmp_path / "models/digits_cond/model.pt", weights_only=True)
    assert all(torch.equal(v, ckpt["model"][k]) for k, v in model.state_dict().items())
    model.eval().requires_grad_(False)
    y = torch.arange(10)
    x0 = torch.rand(10, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    x = langevin(lambda z: model(z, y), x0, LangevinConfig(n_steps=20, step_size=10.0, noise_std=0.005))
    assert x.shape == x0.shape and torch.isfinite(x).all() and 0 <= x.min() and x.max() <= 1
    assert model(x, y).mean() < model(x0, y).mean()  # the chains went down the logged model's energy
