"""Hand trajectories: recording with the real MuJoCo simulator, the gait, model coordinates,
rollouts, the horizon Fréchet distances, and the three stages end to end (no rendering needed)."""

import argparse
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from ebm.sampling import LangevinConfig
from ebm.trajectories.baselines import RegressionConfig, train_fc, train_lstm
from ebm.trajectories.data import Coder, memory_pairs, next_step_pairs, windows
from ebm.trajectories.metrics import horizon_fd, motion_scale, segments
from ebm.trajectories.models import FCConfig, FCPredictor, LSTMConfig, LSTMPredictor, NetConfig, window_energy
from ebm.trajectories.policy import N_ACTIONS, FingerGait, GaitConfig
from ebm.trajectories.record import OBJECT_QUAT, STATE_DIM, RecordConfig, advance, make_env, record
from ebm.trajectories.rollout import (ChainConfig, chain_start, ebm_step, fc_step, rollout_lstm, rollout_steps,
                                      rollout_window, window_starts)
from ebm.trajectories.render import frame_grid
from stages.common.io import UserError

ROOT = Path(__file__).resolve().parents[1]


# --- recording: the real simulator ---

@pytest.fixture(scope="module")
def two():
    """Two short trajectories from HandManipulateBlock-v1 (one train, one test)."""
    return record(RecordConfig(n_trajectories=2, length=8, test_fraction=0.5), GaitConfig(), seed=3)


def test_recording_two_short_trajectories_with_the_real_simulator(two):
    for split in ("train", "test"):
        s, a, r = two[f"{split}_states"], two[f"{split}_actions"], two[f"{split}_random"]
        assert s.shape == (1, 9, STATE_DIM) and a.shape == (1, 8, N_ACTIONS) and r.shape == (1, 8)
        assert np.isfinite(s).all() and np.abs(a).max() <= 1
        assert np.abs(np.diff(s[0, :, :24], axis=0)).max() > 1e-3  # the hand moves
        np.testing.assert_allclose(np.linalg.norm(s[0, :, OBJECT_QUAT], axis=-1), 1, atol=1e-4)  # a real block pose
        assert r[0].tolist() == [False, False, False, True] * 2  # every 4th action random
    assert sorted([*two["train_index"], *two["test_index"]]) == [0, 1]
    assert len(two["state_names"]) == STATE_DIM and two["state_names"][-4] == "object:qw"


def test_recording_is_fixed_by_the_seed(two):
    # two workers recorded ``two``; one process gives the same arrays
    again = record(RecordConfig(n_trajectories=2, length=8, test_fraction=0.5, workers=1), GaitConfig(), seed=3)
    np.testing.assert_array_equal(again["train_states"], two["train_states"])
    np.testing.assert_array_equal(again["test_actions"], two["test_actions"])
    other = record(RecordConfig(n_trajectories=1, length=8, test_fraction=0.0), GaitConfig(), seed=4)
    assert not np.allclose(other["train_states"][0], two["train_states"][0])


def test_advance_moves_the_simulation_exactly_as_env_step():
    # record uses advance (env.step without the observation and reward): same states, bit for bit
    envs = [make_env(RecordConfig().env_id, 8) for _ in range(2)]
    try:
        for env in envs:
            env.reset(seed=5)
        rng = np.random.default_rng(0)
        for _ in range(6):
            a = rng.uniform(-1.2, 1.2, N_ACTIONS).astype(np.float32)  # past the bounds too: both clip
            envs[0].step(a)
            advance(envs[1].unwrapped, a)
            np.testing.assert_array_equal(envs[0].unwrapped.data.qpos, envs[1].unwrapped.data.qpos)
            np.testing.assert_array_equal(envs[0].unwrapped.data.qvel, envs[1].unwrapped.data.qvel)
    finally:
        for env in envs:
            env.close()


# --- the controller ---

def test_the_gait_is_scripted_except_every_kth_action():
    gait = FingerGait(GaitConfig(), np.random.default_rng(0), dt=0.04)
    assert [gait.is_random(t) for t in range(8)] == [False, False, False, True] * 2
    assert np.allclose(gait.action(0), gait.scripted(0))  # scripted steps are the gait itself
    assert not np.allclose(gait.action(3), gait.scripted(3))  # the 4th is not
    flex = np.array([gait.scripted(t)[3] for t in range(50)])  # first finger's flexor swings
    assert flex.max() - flex.min() > 0.5
    never = FingerGait(GaitConfig(random_every=0), np.random.default_rng(0), dt=0.04)
    assert not any(never.is_random(t) for t in range(20))


def test_each_trajectory_draws_its_own_gait():
    a, b = (FingerGait(GaitConfig(), np.random.default_rng(i), dt=0.04) for i in (0, 1))
    assert not np.allclose(a.scripted(5), b.scripted(5))


# --- coordinates ---

def test_coder_steps_windows_and_their_inverses():
    s = torch.randn(3, 7, 5).cumsum(1)
    c = Coder.fit(s)
    w = windows(s, 3)
    assert w.shape == (15, 3, 5) and torch.equal(w[1], s[0, 1:4])
    torch.testing.assert_close(c.unwindow(c.window(w), 3), w, atol=1e-4, rtol=0)
    ctx, nxt = next_step_pairs(s, 2)
    assert torch.equal(ctx[0], s[0, :2]) and torch.equal(nxt[0], s[0, 1:3])
    torch.testing.assert_close(c.advance(nxt[:, 0], c.steps(nxt)[:, 0]), nxt[:, 1], atol=1e-4, rtol=0)
    z = c.states(s.flatten(0, 1))
    torch.testing.assert_close(z.mean(0), torch.zeros(5), atol=1e-5, rtol=0)


# --- rollouts ---

class Quadratic(nn.Module):
    """E(x, y) = |x - target(y)|^2 with target = the context's first coordinates (or a constant)."""

    def __init__(self, d: int, target: torch.Tensor | None = None):
        super().__init__()
        self.d, self.target = d, target
        self.layers = [nn.Linear(d, 1)]  # ebm_step reads the input size here

    def forward(self, x, y=None):
        t = y[:, : self.d] if self.target is None else self.target
        return ((x - t) ** 2).sum(-1)


def test_ebm_rollout_samples_the_energy_minimum_of_each_step():
    d, k = 3, 2
    coder = Coder(torch.zeros(d), torch.ones(d), torch.zeros(d), torch.ones(d))
    start = torch.zeros(4, k, d)
    cfg = LangevinConfig(n_steps=60, step_size=0.2, noise_std=0.0, grad_clip=0.0, clamp=False)
    # each step's minimum is the first context state itself: the trajectory stays at zero ...
    out = rollout_steps(ebm_step(Quadratic(d), cfg, coder), coder, start, 3)
    assert out.shape == (4, 3, d) and out.abs().max() < 1e-3
    # ... and a constant step of 1 moves it by 1 each step
    out = rollout_steps(ebm_step(Quadratic(d, torch.ones(d)), cfg, coder), coder, start, 3)
    torch.testing.assert_close(out[:, :, 0], torch.tensor([1.0, 2.0, 3.0]).expand(4, 3), atol=1e-3, rtol=0)


def test_memory_pairs_reach_back_at_most_reach_steps():
    s = torch.arange(2 * 30 * 1, dtype=torch.float32).view(2, 30, 1)  # a state is its own index
    ctx, mem, nxt = memory_pairs(s, 4, 2, 5, copies=3, generator=torch.Generator().manual_seed(0))
    c0, n0 = next_step_pairs(s, 4)
    assert torch.equal(ctx, c0.repeat(3, 1, 1)) and torch.equal(nxt, n0.repeat(3, 1, 1))
    lag = ctx[:, 0, 0] - mem[:, 0, 0]
    assert torch.equal(mem[:, 1, 0], mem[:, 0, 0] + 1)  # consecutive states of the same trajectory
    assert lag.min() == 0 and lag.max() == 5 and (mem[:, 0, 0] >= 30 * (ctx[:, 0, 0] >= 30)).all()
    with pytest.raises(ValueError, match="frames = 5 must be in 1..k = 4"):
        memory_pairs(s, 4, 5, 5)


def test_each_model_trains_on_its_own_coordinates():
    from ebm.trajectories.models import NetConfig
    from ebm.trajectories.training_sets import training_set

    s = torch.randn(3, 10, 2).cumsum(1)
    c, k = Coder.fit(s), 4
    x, y = training_set("fc", s, k, c)
    assert x.shape == (18, 2) and y.shape == (18, 8)  # 6 pairs per trajectory: next step, last k states
    x, y = training_set("ebm_cond", s, k, c, NetConfig(memory_frames=2))
    assert x.shape == (36, 2) and y.shape == (36, 12)  # twice, each with 2 memory states
    x, y = training_set("ebm_uncond", s, k, c)
    assert x.shape == (18, 10) and y is None
    x, y = training_set("lstm", s, k, c)
    assert x.shape == y.shape == (3, 9, 2)
    torch.testing.assert_close(c.advance(s[:, :-1], x), s[:, 1:], atol=1e-4, rtol=0)


def test_a_rollout_with_memory_sees_its_start_then_what_follows_it():
    d, k = 2, 2
    coder = Coder(torch.zeros(d), torch.ones(d), torch.zeros(d), torch.ones(d))
    cfg = LangevinConfig(n_steps=60, step_size=0.2, noise_std=0.0, grad_clip=0.0, clamp=False)

    class ToMemory(Quadratic):  # each step's minimum: the memory's first state
        def forward(self, x, y=None):
            return ((x - y[:, k * d : (k + 1) * d]) ** 2).sum(-1)

    start = torch.zeros(3, k, d)
    start[:, 0] = 1.0
    out = rollout_steps(ebm_step(ToMemory(d), cfg, coder), coder, start, 4, memory_frames=1, memory_reach=1)
    # steps 1, 2: the memory is start[0] (= 1), so the state moves by 1; then it trails the context by one
    # state: start[1] (= 0, no move), then the first generated state (1)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([1.0, 2.0, 2.0, 3.0]), atol=1e-3, rtol=0)


def test_chain_starts_noise_and_past():
    d = 3
    coder = Coder(torch.zeros(d), torch.full((d,), 2.0), torch.full((d,), 0.5), torch.full((d,), 0.25))
    gen = torch.Generator().manual_seed(0)
    noise = chain_start(ChainConfig(start="noise"), coder, 2000, gen)
    assert abs(noise.std().item() - 1) < 0.05
    # past, in state units ("move"): U(-0.3, 0.3) around "stay where the hand is"
    move = chain_start(ChainConfig(space="move", start="past", start_scale=0.3), coder, 2000, gen)
    assert move.abs().max() <= 0.3 and move.abs().max() > 0.29
    # past, in step units: around the step of a zero displacement, (0 - 0.5) / 0.25 = -2
    step = chain_start(ChainConfig(space="step", start="past", start_scale=0.3), coder, 2000, gen)
    assert (step + 2).abs().max() <= 0.3 + 1e-6
    torch.testing.assert_close(coder.advance(torch.zeros(1, d), coder.move_to_step(torch.ones(1, d))),
                               torch.full((1, d), 2.0))  # a move of 1 in state units is one state sd
    torch.testing.assert_close(coder.step_to_move(coder.move_to_step(move)), move, atol=1e-5, rtol=0)


def test_window_chains_start_from_the_real_window_or_noise():
    d, w = 2, 3
    coder = Coder(torch.zeros(d), torch.ones(d), torch.zeros(d), torch.ones(d))
    x = torch.full((400, w * d), 5.0)
    x0, mask = window_starts(ChainConfig(start="past", start_scale=0.1), coder, x, torch.Generator().manual_seed(0))
    assert torch.equal(x0[:, : -d], x[:, : -d]) and x0[:, -d:].abs().max() <= 0.1  # only the newest step replaced
    assert not mask[:, : -d].any() and mask[:, -d:].all()  # ... and only it moves
    mixed, mixed_mask = window_starts(ChainConfig(noise_share=0.5), coder, x, torch.Generator().manual_seed(0))
    fresh = mixed[:, 0] != 5.0
    assert 0.4 < fresh.float().mean().item() < 0.6  # about half the chains are whole windows from noise
    assert torch.equal(mixed_mask.bool().all(1), fresh)  # those move whole, the others their newest step


def test_training_chains_move_only_what_the_init_mask_lets_move():
    from ebm.training import TrainConfig, Trainer

    torch.manual_seed(0)
    d, w = 2, 3
    coder = Coder(torch.zeros(d), torch.ones(d), torch.zeros(d), torch.ones(d))
    model = window_energy(d, w, NetConfig(hidden=(16,)))
    x = torch.randn(8, w * d)
    cfg = LangevinConfig(n_steps=5, step_size=1.0, noise_std=0.1, grad_clip=0.0, clamp=False)
    trainer = Trainer(model, TrainConfig(batch_size=8, replay_size=0), cfg,
                      lambda n: window_starts(ChainConfig(), coder, x), quantize_buffer=False)
    trainer.step(x, None)
    neg = trainer.last_negatives
    assert torch.equal(neg[:, : -d], x[:, : -d]) and not torch.equal(neg[:, -d:], x[:, -d:])


def test_window_rollout_inpaints_only_the_newest_step():
    d, k = 2, 2
    coder = Coder(torch.zeros(d), torch.ones(d), torch.zeros(d), torch.ones(d))
    target = torch.zeros((k + 1) * d)
    target[-d:] = 0.5  # the energy wants every newest step to be +0.5 ...
    target[:d] = 100.0  # ... and a first state far away: the mask must keep the known states
    cfg = LangevinConfig(n_steps=80, step_size=0.2, noise_std=0.0, grad_clip=0.0, clamp=False)
    start = torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]).repeat(3, 1, 1)
    out = rollout_window(Quadratic((k + 1) * d, target), coder, start, 2, cfg)
    torch.testing.assert_close(out, torch.tensor([[1.5, 1.5], [2.0, 2.0]]).expand(3, 2, 2), atol=1e-3, rtol=0)


def test_fc_and_lstm_learn_a_constant_velocity_and_roll_it_out():
    torch.manual_seed(0)
    t = torch.arange(12.0)
    v = torch.rand(64, 1, 3) + 0.5
    s = torch.randn(64, 1, 3) + v * t[None, :, None]  # s[t] = s0 + v t
    coder, k = Coder.fit(s), 3
    ctx, nxt = next_step_pairs(s, k)
    gen = torch.Generator().manual_seed(0)
    fc = FCPredictor(3, k, FCConfig((64,)))
    losses = []
    train_fc(fc, coder.context(ctx), coder.steps(nxt)[:, 0], RegressionConfig(400, 64, 3e-3), gen,
             lambda step, loss: losses.append(loss))
    assert np.mean(losses[-20:]) < 0.1 * np.mean(losses[:20])
    lstm = LSTMPredictor(3, LSTMConfig(hidden_size=32))
    train_lstm(lstm, coder.states(s[:, :-1]), coder.steps(s), RegressionConfig(300, 32, 3e-3), gen)
    truth = s[:8, k : k + 4]
    for out in (rollout_steps(fc_step(fc), coder, s[:8, :k], 4), rollout_lstm(lstm, coder, s[:8, :k], 4)):
        assert out.shape == truth.shape
        assert (out - truth).abs().mean() < 0.3 * (s[:8, k - 1 : k] - truth).abs().mean()  # beats standing still


# --- the metric ---

def test_horizon_fd_is_zero_on_the_real_futures_and_large_for_a_frozen_hand():
    torch.manual_seed(0)
    s = (torch.randn(100, 12, 4) * 0.1 + torch.rand(100, 1, 4)).cumsum(1)
    coder = Coder.fit(s)
    start, future = segments(s, 2, 5, 3)
    assert start.shape == (200, 2, 4) and future.shape == (200, 5, 4)  # offsets 0 and 3
    assert torch.equal(start[100], s[0, 3:5]) and torch.equal(future[100], s[0, 5:10])
    scale = motion_scale(start[:, -1], future)
    same = horizon_fd(future, start[:, -1], future, start[:, -1], (1, 5), coder, scale)
    assert max(same["state"].values()) < 1e-6 and max(same["motion"].values()) < 1e-6
    frozen = start[:, -1:].expand(-1, 5, -1)
    far = horizon_fd(frozen, start[:, -1], future, start[:, -1], (1, 5), coder, scale)
    assert far["motion"]["h5"] > 1.0 and set(far["state"]) == {"h1", "h5"}


def test_the_evaluation_protocol_scores_every_model_and_the_references_in_both_settings():
    """ebm.trajectories.evaluate.run on synthetic drifting trajectories: an FC model trained on them
    beats the frozen hand in motion, every start is traced back to its held-out trajectory and step."""
    from ebm.trajectories.evaluate import EvalConfig, TrainedModel, run

    torch.manual_seed(0)
    s = (torch.randn(60, 13, 3) * 0.1 + torch.rand(60, 1, 3) + 0.5).cumsum(1)  # drifting states
    train, test, k = s[:50], s[50:], 2
    coder = Coder.fit(train)
    ctx, nxt = next_step_pairs(train, k)
    fc = FCPredictor(3, k, FCConfig((32,)))
    train_fc(fc, coder.context(ctx), coder.steps(nxt)[:, 0], RegressionConfig(300, 64, 3e-3),
             torch.Generator().manual_seed(0))
    cfg = EvalConfig(horizons=(1, 4), start_every=3, samples=2)
    out = run([TrainedModel("fc", fc.eval(), coder)], train, test, k, cfg, torch.Generator().manual_seed(0))
    assert out.real.shape == (30, 4, 3)  # 10 held-out trajectories x offsets 0, 3, 6 (k + 4 states fit in 13)
    starts = list(zip(out.test_trajectory.tolist(), out.test_offset.tolist()))
    assert starts[:2] == [(0, 0), (1, 0)] and starts[10] == (0, 3)
    assert torch.equal(out.real[10], test[0, 3 + k : 3 + k + 4])
    assert out.rollouts["fc"]["conditional"].shape == (30, 4, 3)  # deterministic: one rollout per start
    for setting in ("conditional", "unconditional"):
        motion = out.table[setting]["motion"]
        assert set(motion) == {"fc", "static", "data"}
        assert motion["fc"]["h4"] < motion["static"]["h4"]
    assert out.shown["real"].shape == out.shown["fc"].shape == (30, 5, 3)


def test_frame_grid_places_every_frame():
    frames = np.arange(2 * 3).reshape(2, 3, 1, 1, 1).repeat(4, 2).repeat(4, 3).repeat(3, 4).astype(np.uint8)
    img = frame_grid(frames, pad=1, value=200)
    assert img.shape == (2 * 5 + 1, 3 * 5 + 1, 3) and img[1, 1, 0] == 0 and img[6, 11, 0] == 5 and img[0, 0, 0] == 200


# --- params ---

def params_with(tmp_path, edit) -> Path:
    p = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(p)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False))
    return path


@pytest.mark.parametrize("edit, expected", [
    (lambda p: p["record"].update(amp_min=0.9, amp_max=0.5), "record.amp_min = 0.9: must be <= record.amp_max"),
    (lambda p: p["record"].update(n_trajectories=0), "record.n_trajectories = 0: must be > 0"),
    (lambda p: p["record"].update(speed=1), "record.speed: unknown key"),
    (lambda p: p["trajectory"].update(models=["ebm_cond", "gan"]), "trajectory.models[1] = 'gan': unknown model"),
    (lambda p: p["trajectory"]["ebm_cond"].update(clamp=True), "trajectory.ebm_cond.clamp = true"),
    (lambda p: p["trajectory"]["lstm"].update(hidden=[3]), "trajectory.lstm.hidden: unknown key"),
    (lambda p: p["trajectory"]["evaluate"].update(horizons=[0, 5]), "trajectory.evaluate.horizons[0] = 0"),
    (lambda p: p["trajectory"]["fc"].update(lr=-1), "trajectory.fc.lr = -1: must be > 0"),
    (lambda p: p["trajectory"]["ebm_cond"].update(memory_frames=5), "trajectory.ebm_cond.memory_frames = 5: at most"),
    (lambda p: p["trajectory"]["ebm_uncond"].update(memory_frames=1), "trajectory.ebm_uncond.memory_frames = 1: only"),
])
def test_bad_trajectory_params_name_the_key(tmp_path, edit, expected):
    from stages.common.params import load_params
    from stages.common.sections.full import SCHEMAS

    with pytest.raises(UserError) as e:
        load_params(*SCHEMAS, path=params_with(tmp_path, edit))
    assert expected in str(e.value) and "\n" not in str(e.value)


# --- the stages, in-process, tiny ---

def run_stage(ws: Path, name: str, monkeypatch, **args) -> None:
    monkeypatch.chdir(ws)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unsupported-scheme://off")  # MLflow warns and goes on
    monkeypatch.delenv("DVC_ROOT", raising=False)
    importlib.import_module(f"stages.{name}").main(argparse.Namespace(**args))


def tiny(p: dict) -> None:
    from tests.tiny_params import TINY

    for section in ("record", "trajectory"):
        for key, value in TINY[section].items():
            if isinstance(value, dict):
                p[section][key].update(value)
            else:
                p[section][key] = value


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("trajectories")
    params_with(ws, tiny)
    return ws


def test_the_stages_record_train_and_evaluate_every_model(workspace, monkeypatch):
    run_stage(workspace, "record", monkeypatch)
    meta = json.loads((workspace / "data/trajectories/meta.json").read_text())
    assert meta["env_id"] == "HandManipulateBlock-v1" and meta["versions"]["mujoco"] == "3.11.0"
    with np.load(workspace / "data/trajectories/trajectories.npz") as z:
        assert z["train_states"].shape == (5, 11, STATE_DIM) and str(z["env_id"]) == "HandManipulateBlock-v1"
    assert (workspace / "plots/images/record").is_dir()  # a DVC output even with rendering off
    for name in ("ebm_cond", "ebm_uncond", "fc", "lstm"):
        run_stage(workspace, "train_traj", monkeypatch, model=name)
        assert (workspace / f"models/trajectories/{name}/model.pt").exists()
    run_stage(workspace, "evaluate_traj", monkeypatch)
    m = json.loads((workspace / "metrics/evaluate_traj.json").read_text())
    for setting in ("conditional", "unconditional"):
        for feature in ("state", "motion"):
            table = m[setting][feature]
            assert set(table) == {"ebm_cond", "ebm_uncond", "fc", "lstm", "static", "data"}
            assert all(set(v) == {"h1", "h2"} and all(np.isfinite(list(v.values()))) for v in table.values())
    for name in ("ebm_cond", "ebm_uncond", "fc", "lstm"):  # every model's rollouts, as arrays
        with np.load(workspace / f"data/rollouts/{name}.npz") as z:
            assert z["conditional"].shape[1:] == (2, STATE_DIM) and z["conditional_start"].shape[1:] == (2, STATE_DIM)
            assert z["real"].shape == (len(z["test_trajectory"]), 2, STATE_DIM) and int(z["horizons"]) == 2
            assert np.isfinite(z["conditional"]).all() and np.isfinite(z["unconditional"]).all()
            test = np.load(workspace / "data/trajectories/trajectories.npz")["test_states"]
            i, o = z["test_trajectory"][0], z["test_offset"][0]
            np.testing.assert_array_equal(z["conditional_start"][0], test[i, o : o + 2])  # a held-out start
    assert not (workspace / ".resume/trajectories").exists() or not any((workspace / ".resume/trajectories").iterdir())
    csv = (workspace / "plots/evaluate_traj/conditional_motion.csv").read_text().splitlines()
    assert csv[0] == "horizon,ebm_cond,ebm_uncond,fc,lstm,static,data" and len(csv) == 3
    assert (workspace / "plots/images/evaluate_traj/figure13.png").stat().st_size > 1000


def test_missing_trajectories_and_too_long_horizons_are_one_line_errors(tmp_path, workspace, monkeypatch):
    params_with(tmp_path, tiny)
    with pytest.raises(UserError, match=r"data/trajectories/trajectories.npz: missing hand trajectories; run "
                                        r"`dvc repro record`"):
        run_stage(tmp_path, "train_traj", monkeypatch, model="fc")
    (tmp_path / "data").symlink_to(workspace / "data")
    params_with(tmp_path, lambda p: (tiny(p), p["trajectory"]["evaluate"].update(horizons=[1, 50])))
    with pytest.raises(UserError, match="trajectory.evaluate.horizons: 50 steps after 2 context states"):
        run_stage(tmp_path, "evaluate_traj", monkeypatch)


def test_record_reruns_only_on_its_own_params_and_code():
    """dvc.yaml: record reads seed + record only, and none of the models' code; models and
    evaluation never read record's params (they see the recording only through data/trajectories)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    rec = stages["record"]
    assert rec["params"] == ["seed", "record"]
    allowed = {"ebm/__init__.py", "ebm/config.py", "ebm/trajectories/__init__.py", "ebm/trajectories/policy.py",
               "ebm/trajectories/record.py", "ebm/trajectories/render.py"}
    assert {d for d in rec["deps"] if d.startswith("ebm")} == allowed
    for name in ("train_traj", "evaluate_traj"):
        stage = stages[name].get("do", stages[name])
        assert "data/trajectories" in stage["deps"]
        assert not any(str(p).startswith("record") for p in stage["params"])


def test_a_killed_ebm_training_resumes_where_it_stopped(tmp_path, workspace, monkeypatch, capsys):
    """train_traj@ebm_cond goes through the shared Algorithm 1 pieces: killed after its resume state
    at step 2, it starts again from there and ends with the weights of an uninterrupted run."""
    from ebm.training import Trainer

    (tmp_path / "data").symlink_to(workspace / "data")
    params_with(tmp_path, lambda p: (tiny(p), p["trajectory"]["ebm_cond"].update(n_iters=4, resume_every=2)))
    run_stage(tmp_path, "train_traj", monkeypatch, model="ebm_cond")
    whole = torch.load(tmp_path / "models/trajectories/ebm_cond/model.pt")["model"]
    assert not (tmp_path / ".resume/trajectories/ebm_cond").exists()  # cleared once the outputs are written
    step, calls = Trainer.step, []

    def killed_at_3(self, *a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return step(self, *a, **kw)

    monkeypatch.setattr(Trainer, "step", killed_at_3)
    with pytest.raises(KeyboardInterrupt):
        run_stage(tmp_path, "train_traj", monkeypatch, model="ebm_cond")
    assert (tmp_path / ".resume/trajectories/ebm_cond/state.pt").exists()
    monkeypatch.setattr(Trainer, "step", step)
    capsys.readouterr()
    run_stage(tmp_path, "train_traj", monkeypatch, model="ebm_cond")
    assert "resuming from step 2" in capsys.readouterr().out
    resumed = torch.load(tmp_path / "models/trajectories/ebm_cond/model.pt")["model"]
    for k in whole:
        torch.testing.assert_close(resumed[k], whole[k], atol=0, rtol=0)
