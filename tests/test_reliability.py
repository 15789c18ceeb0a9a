"""Divergence recovery and resume after a kill."""

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ebm.data import uniform_like
from ebm.models import build_energy
from ebm.sampling import LangevinConfig
from ebm.training import DivergenceError, DivergenceGuard, GuardConfig, TrainConfig, Trainer
from tests.tiny_params import tiny

ROOT = Path(__file__).resolve().parents[1]


def make_trainer():
    torch.manual_seed(0)
    model = build_energy("digits_resnet", 1)
    return Trainer(model, TrainConfig(batch_size=8, lr=1e-3), LangevinConfig(n_steps=2), uniform_like((1, 8, 8)))


def test_an_injected_nan_is_rolled_back_and_training_goes_on():
    trainer = make_trainer()
    guard = DivergenceGuard(trainer, GuardConfig(snapshot_every=2, lr_decay=0.5, max_rollbacks=2))
    data = torch.rand(8, 1, 8, 8)
    events = []
    for step in range(1, 11):
        if step == 5:  # poison one weight: the next forward gives NaN energies
            next(trainer.model.parameters()).data.view(-1)[0] = float("nan")
        event = guard.check(step, trainer.step(data, None))
        if event:
            events.append(event)
    # The state after step 4 was never checked (step 5 started from it and failed): back to step 2's.
    assert len(events) == 1 and events[0]["step"] == 5 and events[0]["rolled_back_to"] == 2
    assert trainer.lr == pytest.approx(5e-4)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    stats = trainer.step(data, None)
    assert all(math.isfinite(v) for v in stats.values())


class RunawayTrainer:
    """A step reports the energy of the weights it starts from, then moves them by lr: too large an lr runs away."""

    def __init__(self, lr):
        self.lr, self.w = lr, 0.0

    def state_dict(self):
        return {"w": self.w}

    def load_state_dict(self, state):
        self.w = state["w"]

    def step(self):
        stats = {"loss": self.w, "e_pos": self.w, "e_neg": self.w}
        self.w += self.lr
        return stats


def test_a_rollback_returns_to_a_state_that_passed_the_check():
    trainer = RunawayTrainer(lr=6.0)  # 0 -> 6 -> 12: the update of step 2 already diverged (bound 10)
    guard = DivergenceGuard(trainer, GuardConfig(energy_bound=10, snapshot_every=2, lr_decay=0.5, max_rollbacks=3))
    assert guard.check(1, trainer.step()) is None and guard.check(2, trainer.step()) is None
    event = guard.check(3, trainer.step())  # stats of the state after step 2: diverged
    assert event["rolled_back_to"] == 0 and trainer.w == 0.0  # not the diverged state snapshotted at step 2
    assert guard.check(4, trainer.step()) is None  # the lower lr goes on from a healthy state


def test_repeated_divergence_fails_after_max_rollbacks():
    trainer = make_trainer()
    guard = DivergenceGuard(trainer, GuardConfig(energy_bound=1e-12, max_rollbacks=2))
    with pytest.raises(DivergenceError, match="after 2 rollbacks"):
        for step in range(1, 10):
            guard.check(step, trainer.step(torch.rand(8, 1, 8, 8), None))


def project(tmp_path, **train) -> Path:
    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"].update(train)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    run(tmp_path, "download", "--dataset", "digits")
    return tmp_path


def run(cwd, stage, *args, wait=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow.db"}
    cmd = [sys.executable, "-m", f"stages.{stage}", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def test_a_diverging_stage_fails_with_one_line_and_no_outputs(tmp_path):
    project(tmp_path, energy_bound=1e-12, max_rollbacks=1)
    r = run(tmp_path, "train", "--variant", "digits_uncond")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: train@digits_uncond: training diverged at step")
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()
    import sqlite3

    con = sqlite3.connect(tmp_path / "mlflow.db")
    status = dict(con.execute("select name, status from runs").fetchall())
    con.close()
    assert status["train@digits_uncond"] == "FAILED" and status["download@digits"] == "FINISHED"


def test_a_killed_training_resumes_and_ends_where_an_unkilled_one_does(tmp_path):
    settings = {"n_iters": 60, "resume_every": 10, "log_every": 5, "history_every": 10}
    (tmp_path / "killed").mkdir()
    killed = project(tmp_path / "killed", **settings)
    proc = run(killed, "train", "--variant", "digits_uncond", wait=False)
    state = killed / ".resume" / "digits_uncond" / "state.pt"
    deadline = time.time() + 300
    while time.time() < deadline and not (state.exists() and torch.load(state, weights_only=False)["step"] >= 20):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "models" / "digits_uncond" / "model.pt").exists()
    resumed = run(killed, "train", "--variant", "digits_uncond")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from step" in resumed.stdout
    assert not (killed / ".resume" / "digits_uncond").exists()

    (tmp_path / "clean").mkdir()
    clean = project(tmp_path / "clean", **settings)
    assert run(clean, "train", "--variant", "digits_uncond").returncode == 0
    a = torch.load(killed / "models/digits_uncond/model.pt", weights_only=False)["model"]
    b = torch.load(clean / "models/digits_uncond/model.pt", weights_only=False)["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert (killed / "plots/train/digits_uncond.csv").read_text() == (clean / "plots/train/digits_uncond.csv").read_text()


def test_a_locked_mlflow_db_warns_once_and_the_stage_still_writes_its_outputs(tmp_path):
    import sqlite3

    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    con = sqlite3.connect(tmp_path / "mlflow.db", isolation_level=None)
    con.execute("create table lock_holder(a)")
    con.execute("begin exclusive")  # another writer holds the database
    r = run(tmp_path, "download", "--dataset", "digits")
    con.close()
    assert r.returncode == 0
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning: MLflow tracking unavailable")]
    assert len(warnings) == 1 and "database is locked" in warnings[0]
    assert sorted(p.name for p in (tmp_path / "data" / "digits").iterdir()) == ["meta.json", "test.npz", "train.npz"]


def test_a_stage_in_one_of_two_queued_workspaces_takes_half_the_cores(tmp_path):
    exps = tmp_path / ".dvc" / "tmp" / "exps"
    for name in ("tmpaaaa", "tmpbbbb", "celery"):
        (exps / name).mkdir(parents=True)
    probe = ("import torch; from stages.common.threads import share_cores; "
             "print(share_cores(), torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env.update(PYTHONPATH=str(ROOT), DVC_ROOT=str(tmp_path))

    def threads(cwd, **extra):
        out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env={**env, **extra}, capture_output=True,
                             text=True, check=True).stdout.split()
        return out[-2], int(out[-1])

    cores = len(os.sched_getaffinity(0))
    assert threads(exps / "tmpaaaa") == (str(max(1, cores // 2)), max(1, cores // 2))
    assert threads(tmp_path)[0] == "None"  # the workspace itself: torch's default
    assert threads(exps / "tmpaaaa", OMP_NUM_THREADS="1") == ("None", 1)  # the user's setting wins


def test_four_stages_starting_at_once_on_a_fresh_mlflow_db_all_land_their_runs(tmp_path):
    # Without the start lock, processes racing to create the tables broke the migration for all but one.
    script = ("import sys; from stages.common.tracking import StageRun\n"
              "r = StageRun('race', sys.argv[1], {'a': 1}); r.log_metrics({'m': 1.0}); r.end('FINISHED')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(PYTHONPATH=str(ROOT), DVC_ROOT=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", script, f"v{i}"], cwd=tmp_path, env=env,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert not any("MLflow tracking unavailable" in e for e in errors), errors
    con = sqlite3.connect(tmp_path / "mlflow.db")
    names = sorted(n for (n,) in con.execute("select name from runs where status = 'FINISHED'"))
    parents = set(con.execute("select value from tags where key = 'mlflow.parentRunId'").fetchall())
    con.close()
    assert names == [f"race@v{i}" for i in range(4)] + ["workspace"]
    assert len(parents) == 1  # all four nested under the one parent run of the workspace


def test_an_output_directory_written_again_by_hand_is_replaced_whole(tmp_path):
    from stages.common.io import atomic_path

    out = tmp_path / "models" / "v"
    for name in ("first.pt", "second.pt"):
        with atomic_path(out) as tmp:
            tmp.mkdir()
            (tmp / name).write_text(name)
    assert [p.name for p in out.iterdir()] == ["second.pt"]  # nothing left of the first write
    assert [p.name for p in out.parent.iterdir()] == ["v"]  # no temporary or old copy left beside it


def test_sigterm_ends_the_mlflow_run_failed_and_keeps_the_resume_state(tmp_path):
    project(tmp_path, n_iters=100000, resume_every=5)
    proc = run(tmp_path, "train", "--variant", "digits_uncond", wait=False)
    state = tmp_path / ".resume" / "digits_uncond" / "state.pt"
    deadline = time.time() + 120
    while time.time() < deadline and not state.exists():
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # what `timeout`, a cluster scheduler or `docker stop` sends
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 128 + signal.SIGTERM, out[-2000:]
    assert "error: stopped by SIGTERM" in out
    con = sqlite3.connect(tmp_path / "mlflow.db")
    status = dict(con.execute("select name, status from runs").fetchall())
    con.close()
    assert status["train@digits_uncond"] == "FAILED", out[-2000:]
    assert state.exists() and not (tmp_path / "models").exists()


def test_a_sigterm_inside_a_tracking_write_stops_the_stage_after_the_write():
    from stages.common import main

    old = signal.signal(signal.SIGTERM, main._terminated)
    steps = []
    try:
        with pytest.raises(SystemExit) as stop:
            with main.deferred_stop():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.1)  # the handler has run by now
                steps.append("the write finished")
            steps.append("after the block")
    finally:
        signal.signal(signal.SIGTERM, old)
    assert steps == ["the write finished"] and stop.value.code == 128 + signal.SIGTERM


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_leftovers_of_a_writer_killed_between_the_renames_are_restored_or_cleaned(tmp_path):
    from stages.common.io import atomic_path

    out, pid = tmp_path / "models" / "v", dead_pid()
    previous, half = tmp_path / "models" / f".v.old{pid}", tmp_path / "models" / f".v.tmp{pid}"
    previous.mkdir(parents=True)
    (previous / "model.pt").write_text("previous")
    half.mkdir()
    (half / "model.pt").write_text("half-written")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:  # the next writer fails too
        raise RuntimeError
    assert (out / "model.pt").read_text() == "previous"  # the previous output is back where readers look
    assert [p.name for p in out.parent.iterdir()] == ["v"]
    with atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "model.pt").write_text("new")
    assert (out / "model.pt").read_text() == "new" and [p.name for p in out.parent.iterdir()] == ["v"]
