"""Algorithm 1 parts: loss, clipped Adam, replay buffer, one training step."""

import torch

from ebm.data import uniform_like
from ebm.models import build_energy
from ebm.models.spectral import SNConv2d
from ebm.sampling import LangevinConfig, ReplayBuffer, init_chains
from ebm.training import ClippedAdam, TrainConfig, Trainer, contrastive_loss


def test_contrastive_loss_formula():
    e_pos, e_neg = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    loss, stats = contrastive_loss(e_pos, e_neg, l2_coeff=0.5)
    assert torch.isclose(loss, torch.tensor(2.0 - (-1.0) + 0.5 * (5.0 + 2.0)))
    assert stats["e_pos"] == 2.0 and stats["e_neg"] == -1.0


def test_clipped_adam_bounds_the_first_gradient_at_0_1():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = ClippedAdam([p], lr=1.0, betas=(0.0, 0.999))
    p.grad = torch.tensor([5.0, -5.0, 0.05])
    opt.step()
    # beta1 = 0: the update is g / sqrt(g^2) = sign(g) for the clipped g (0.1, -0.1, 0.05)
    assert torch.allclose(opt.state[p]["v"], 0.001 * torch.tensor([0.01, 0.01, 0.0025]))
    assert torch.allclose(p.data, -torch.sign(torch.tensor([5.0, -5.0, 0.05])), atol=1e-4)


def test_replay_buffer_keeps_labels_and_round_trips_within_a_quantum():
    buf = ReplayBuffer(capacity=5)
    x = torch.rand(8, 1, 2, 2)
    buf.add(x, torch.arange(8))
    assert len(buf) == 5  # FIFO ring: the last 5 stay
    assert set(buf.y.tolist()) == {3, 4, 5, 6, 7}
    xs, ys = buf.sample(50, torch.Generator().manual_seed(0))
    for xi, yi in zip(xs, ys):
        assert (xi - x[yi]).abs().max() < 1 / 256


def test_init_chains_replays_about_the_asked_share():
    buf = ReplayBuffer(capacity=1000)
    buf.add(torch.ones(1000, 1, 2, 2) * 0.999, torch.zeros(1000, dtype=torch.long))
    fresh = torch.zeros(999, 1, 2, 2)
    x, y = init_chains(buf, fresh, torch.ones(999, dtype=torch.long), 0.95, torch.Generator().manual_seed(0))
    replayed = (x[:, 0, 0, 0] > 0.9).float().mean()
    assert 0.93 < replayed < 0.97
    assert torch.equal(y == 0, x[:, 0, 0, 0] > 0.9)  # replayed chains keep their buffer label


def test_train_step_runs_one_power_iteration_and_fills_the_buffer():
    torch.manual_seed(0)
    model = build_energy("digits_resnet", 1, label_dim=10)
    trainer = Trainer(model, TrainConfig(batch_size=8, replay_size=100), LangevinConfig(n_steps=3),
                      uniform_like((1, 8, 8)))
    # Expected u after exactly one power iteration, computed from a copy.
    conv = next(m for m in model.modules() if isinstance(m, SNConv2d))
    w = conv.weight_orig.detach().flatten(1)
    v = torch.nn.functional.normalize(w.t() @ conv.u, dim=0)
    u_expected = torch.nn.functional.normalize(w @ v, dim=0)
    stats = trainer.step(torch.rand(8, 1, 8, 8), torch.randint(0, 10, (8,)))
    assert torch.allclose(conv.u, u_expected, atol=1e-6)
    assert len(trainer.buffer) == 8 and trainer.buffer.y is not None
    assert set(stats) >= {"loss", "e_pos", "e_neg"} and all(map(lambda v: v == v, stats.values()))
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_training_separates_data_from_noise():
    # A few dozen iterations on a two-mode toy: data energy ends below uniform noise.
    torch.manual_seed(0)
    data = torch.zeros(256, 1, 8, 8)
    data[:, :, 2:6, 2:6] = 1.0
    model = build_energy("digits_resnet", 1)
    trainer = Trainer(model, TrainConfig(batch_size=32, lr=1e-3), LangevinConfig(n_steps=5), uniform_like((1, 8, 8)))
    for _ in range(40):
        trainer.step(data[:32], None)
    with torch.no_grad():
        assert model(data[:32]).mean() < model(torch.rand(32, 1, 8, 8)).mean()


def test_lr_anneal_is_constant_then_falls_linearly_and_scales_the_adam_step():
    cfg = TrainConfig(n_iters=100, lr_anneal_from=0.75)
    assert [cfg.lr_scale(s) for s in (1, 75)] == [1.0, 1.0]
    assert cfg.lr_scale(76) == 1.0 - 1 / 26 and cfg.lr_scale(100) == 1 / 26  # linear to ~0 at the end
    assert all(cfg.lr_scale(s) > cfg.lr_scale(s + 1) for s in range(75, 100))
    assert TrainConfig(n_iters=100).lr_scale(100) == 1.0  # default: constant, as the original
    floored = TrainConfig(n_iters=100, lr_anneal_from=0.5, lr_floor=0.2)
    assert floored.lr_scale(50) == 1.0 and floored.lr_scale(100) == 0.2  # falls, then holds at the floor
    assert floored.lr_scale(95) == 0.2 and floored.lr_scale(60) > 0.2

    def moved(scale):
        p = torch.nn.Parameter(torch.zeros(3))
        opt = ClippedAdam([p], lr=0.1)
        p.grad = torch.tensor([0.05, -0.05, 0.05])
        opt.step(lr_scale=scale)
        return p.detach().abs()

    assert torch.allclose(moved(0.25), moved(1.0) * 0.25)


def test_lr_cycles_restart_the_anneal_and_one_cycle_is_the_plain_anneal():
    one = TrainConfig(n_iters=100, lr_anneal_from=0.6)
    assert [TrainConfig(n_iters=100, lr_anneal_from=0.6, lr_cycles=1).lr_scale(s) for s in range(1, 101)] == \
        [one.lr_scale(s) for s in range(1, 101)]
    cyc = TrainConfig(n_iters=100, lr_anneal_from=0.6, lr_cycles=4)  # 40 iterations: four cycles of 10
    assert cyc.lr_scale(60) == 1.0
    ends = [cyc.lr_scale(s) for s in (70, 80, 90, 100)]
    assert ends == [1 / 11] * 4  # each cycle ends at 1 / (its length + 1), as the one anneal does at 1 / 41
    starts = [cyc.lr_scale(s) for s in (61, 71, 81, 91)]
    assert starts == [10 / 11] * 4 and all(cyc.lr_scale(s) > cyc.lr_scale(s + 1) for s in range(61, 70))


def test_a_resumed_trainer_has_the_last_negatives_for_the_final_grid():
    torch.manual_seed(0)
    make = lambda: Trainer(build_energy("digits_resnet", 1), TrainConfig(batch_size=4), LangevinConfig(n_steps=2),
                           uniform_like((1, 8, 8)))
    a = make()
    a.step(torch.rand(4, 1, 8, 8), None)
    b = make()
    b.load_state_dict(a.state_dict())
    assert torch.equal(b.last_negatives, a.last_negatives)


def _label_margin_after_training(label_contrast: float) -> tuple[float, dict]:
    """Mean energy margin E(x, wrong label) - E(x, own label), after 80 steps on a two-class toy
    where the label says which half of the vector is on."""
    from ebm.models import MLPEnergy

    torch.manual_seed(0)
    y = torch.randint(0, 2, (512,))
    x = (0.1 + 0.8 * torch.stack([1 - y, 1 - y, y, y], 1).float() + 0.05 * torch.randn(512, 4)).clamp(0, 1)
    model = MLPEnergy(4, (32,), label_dim=2, act="lrelu", spectral_norm=False)
    cfg = TrainConfig(batch_size=64, lr=1e-3, replay_size=0, label_contrast=label_contrast)
    trainer = Trainer(model, cfg, LangevinConfig(n_steps=3, step_size=1.0, grad_clip=0.0), uniform_like((4,)))
    for step in range(80):
        idx = torch.arange(64) + 64 * (step % 8)
        stats = trainer.step(x[idx], y[idx])
    with torch.no_grad():
        margin = (model(x, 1 - y) - model(x, y)).mean().item()
    return margin, stats


def test_label_contrast_teaches_the_label_and_is_off_by_default():
    assert TrainConfig().label_contrast == 0.0
    without, stats = _label_margin_after_training(0.0)
    assert "loss_label" not in stats  # the original objective, untouched
    with_contrast, stats = _label_margin_after_training(0.2)
    assert stats["loss_label"] < 0.5  # softplus at E(x, y) - E(x, y') << 0 is near 0; log 2 = 0.69 at a tie
    assert with_contrast > 2 * without > 0  # the label is learnt without it too, but with a smaller margin


def test_fit_in_two_halves_is_fit_in_one_and_calls_its_hooks_and_logs_on_their_steps():
    from ebm.training import FitLog, fit

    x = torch.rand(64, 1, 8, 8)

    def run(halves):
        torch.manual_seed(0)
        trainer = Trainer(build_energy("digits_resnet", 1), TrainConfig(batch_size=8, lr=1e-3, n_iters=6),
                          LangevinConfig(n_steps=2), uniform_like((1, 8, 8)))
        log, seen, hooked = FitLog(), [], []
        for start, stop in halves:  # the second: a resumed run, with its start and its log
            fit(trainer, lambda step: (x[(step - 1) * 8: step * 8], None), 6, log_every=2, start=start, log=log,
                keys=("loss",), on_log=lambda step, stats: seen.append(step), hooks=[(3, hooked.append)],
                steps=range(start + 1, stop + 1))
        return log, seen, hooked, trainer.model.state_dict()

    (log_a, seen_a, hooked_a, w_a), (log_b, *_, w_b) = run([(0, 6)]), run([(0, 3), (3, 6)])
    assert seen_a == [2, 4, 6] and hooked_a == [3, 6]
    assert [set(r) for r in log_a.rows] == [{"step", "loss"}] * 3
    assert log_a.rows == log_b.rows and all(torch.equal(w_a[k], w_b[k]) for k in w_a)


def test_mlp_label_gain_starts_as_the_bias_only_model_and_then_scales_by_label():
    from ebm.models import MLPEnergy

    torch.manual_seed(0)
    plain = MLPEnergy(6, (8, 8), label_dim=3, spectral_norm=False)
    gained = MLPEnergy(6, (8, 8), label_dim=3, spectral_norm=False, label_gain=True)
    gained.load_state_dict(plain.state_dict(), strict=False)  # the gains stay at their zero init
    x, y = torch.randn(4, 6), torch.eye(3)[[0, 1, 2, 0]]
    torch.testing.assert_close(gained(x, y), plain(x, y))
    with torch.no_grad():
        gained.gains[0].weight[1] = 1.0  # label 1 doubles the first layer's pre-activation
    changed = gained(x, y) != plain(x, y)
    assert changed[1] and not changed[0] and not changed[2]
