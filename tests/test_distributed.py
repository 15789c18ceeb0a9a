"""Data-parallel training: two gloo processes on the CPU keep identical weights and SN vectors."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import yaml

from ebm.accel import (
    AccelConfig, accelerate, all_mean, env_context, init_distributed, rank_seed, shutdown, uniform_on, wrap_ddp,
)
from ebm.models import build_energy, sn_vectors
from ebm.sampling import LangevinConfig
from ebm.training import TrainConfig, Trainer, batch_at
from tests.tiny_params import tiny

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    ctx, device = env_context(), torch.device("cpu")
    init_distributed(ctx, "gloo", device)
    torch.manual_seed(0)
    net = build_energy("digits_resnet", 1, 10)
    torch.manual_seed(rank_seed(0, rank))
    fast, chain = accelerate(net, AccelConfig(device="cpu"), device)
    trainer = Trainer(wrap_ddp(fast, ctx, device), TrainConfig(batch_size=8, lr=1e-3), LangevinConfig(n_steps=3),
                      uniform_on((1, 8, 8), device), chain_model=chain)
    data, labels = torch.rand(64, 1, 8, 8), torch.arange(64) % 10
    stats = []
    for step in range(4):
        xb, yb = batch_at(data, labels, 8, step * world + rank, seed=0)  # each rank its own batches
        stats.append(all_mean(trainer.step(xb, yb), ctx, device))
    torch.save({"weights": net.state_dict(), "sn": sn_vectors(net), "buffer": trainer.buffer.x[: len(trainer.buffer)],
                "stats": stats}, Path(out) / f"rank{rank}.pt")
    shutdown(ctx)


def test_two_gloo_ranks_keep_identical_weights_and_sn_vectors(tmp_path):
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    torch.manual_seed(0)
    init = build_energy("digits_resnet", 1, 10).state_dict()
    assert any(not torch.equal(a["weights"][k], init[k]) for k in init)  # it trained
    assert all(torch.equal(a["weights"][k], b["weights"][k]) for k in init)  # ... in lockstep: gradients averaged
    assert all(torch.equal(u, v) for u, v in zip(a["sn"], b["sn"]))  # spectral-norm u, v too
    assert not torch.equal(a["buffer"], b["buffer"])  # one replay buffer per rank, with its own chains
    assert a["stats"] == b["stats"]  # the logged (averaged) numbers agree, so guard decisions agree


@pytest.mark.slow  # two stage processes under torchrun: ~40 s on a busy 2-core machine
def test_the_train_stage_runs_under_torchrun_when_nproc_is_2(tmp_path):
    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"].update(nproc=2, n_iters=4, log_every=2, history_every=2)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    for args in (["download", "--dataset", "digits"], ["train", "--variant", "digits_uncond"]):
        r = subprocess.run([sys.executable, "-m", f"stages.{args[0]}", *args[1:]], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
    assert "2 processes" in r.stdout and "batch 32 (2 x 16)" in r.stdout
    metrics = json.loads((tmp_path / "metrics/train/digits_uncond.json").read_text())
    assert metrics["world_size"] == 2 and metrics["effective_batch"] == 2 * params["train"]["batch_size"]
    assert (tmp_path / "models/digits_uncond/model.pt").exists()
    leftovers = [p for p in (tmp_path / ".resume").iterdir() if p.suffix != ".lock"]  # the lock file stays: harmless
    assert not leftovers  # every rank cleaned up its resume state
