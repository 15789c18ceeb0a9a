"""Device selection, bf16 autocast, channels_last and the frozen-chain SN cache, all on the CPU."""

import pytest
import torch

from ebm.accel import AccelConfig, accelerate, autocast, resolve_device, uniform_on
from ebm.data import uniform_like
from ebm.models import build_energy, power_iteration
from ebm.models.spectral import SNConv2d
from ebm.sampling import LangevinConfig, energy_grad, frozen, langevin
from ebm.training import TrainConfig, Trainer


def model(seed=0, label_dim=10):
    torch.manual_seed(seed)
    return build_energy("digits_resnet", 1, label_dim)


def test_device_auto_is_the_cpu_without_cuda_and_cuda_without_it_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device = 'cuda': no CUDA device"):
        resolve_device("cuda")


def test_uniform_on_the_cpu_draws_what_uniform_like_draws():
    a = uniform_on((1, 8, 8), torch.device("cpu"), torch.Generator().manual_seed(3))(5)
    b = uniform_like((1, 8, 8), torch.Generator().manual_seed(3))(5)
    assert torch.equal(a, b)


def test_bf16_autocast_gives_fp32_energies_close_to_fp32_ones():
    net = model()
    x, y = torch.rand(16, 1, 8, 8), torch.arange(16) % 10
    with torch.no_grad():
        ref = net(x, y)
        fast, _ = accelerate(net, AccelConfig(device="cpu", amp="bf16"), torch.device("cpu"))
        e = fast(x, y)
    assert e.dtype == torch.float32
    assert not torch.equal(e, ref)  # bf16 really ran ...
    assert torch.allclose(e, ref, rtol=0.05, atol=0.05 * ref.abs().max().item())  # ... and stays close


def test_a_bf16_channels_last_training_step_runs_and_keeps_weights_finite():
    net = model(label_dim=0)
    fast, chain = accelerate(net, AccelConfig(device="cpu", amp="bf16", channels_last=True), torch.device("cpu"))
    trainer = Trainer(fast, TrainConfig(batch_size=8), LangevinConfig(n_steps=3), uniform_like((1, 8, 8)),
                      chain_model=chain)
    for _ in range(3):
        stats = trainer.step(torch.rand(8, 1, 8, 8), None)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert trainer.last_negatives.dtype == torch.float32
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in net.parameters())


def test_channels_last_changes_the_layout_not_the_numbers():
    ref = model()
    net = model()
    x, y = torch.rand(8, 1, 8, 8), torch.arange(8)
    fast, _ = accelerate(net, AccelConfig(device="cpu", channels_last=True), torch.device("cpu"))
    assert net.blocks[0].conv1.weight_orig.is_contiguous(memory_format=torch.channels_last)
    with frozen(ref, net):
        g_ref, g = energy_grad(lambda z: ref(z, y), x), energy_grad(lambda z: fast(z, y), x)
    assert torch.allclose(g, g_ref, atol=1e-5, rtol=1e-4)


def test_sn_weight_is_computed_once_per_frozen_chain_and_refreshed_when_weights_change():
    conv = SNConv2d(2, 3)
    with frozen(conv):
        w1 = conv.normalized_weight()
        assert conv.normalized_weight() is w1  # cached while nothing changes
        conv.power_iteration()
        w2 = conv.normalized_weight()
        assert w2 is not w1  # u, v moved: recomputed
        with torch.no_grad():  # as an optimiser or load_state_dict changes weights (bumps their version)
            conv.weight_orig.mul_(2)
        w3 = conv.normalized_weight()
        assert w3 is not w2 and torch.allclose(w3, w2, atol=1e-5)  # W/sigma is scale free, but recomputed
    w = conv.normalized_weight()
    assert w.requires_grad and w is not w3  # training forward: never cached, gradients flow


def test_the_cache_leaves_a_chain_bit_identical():
    net = model()
    x0, y = torch.rand(8, 1, 8, 8), torch.arange(8)
    power_iteration(net)
    cfg = LangevinConfig(n_steps=5)
    a = langevin(lambda z: net(z, y), x0, cfg, models=(net,), generator=torch.Generator().manual_seed(1))
    gen, b = torch.Generator().manual_seed(1), x0
    for _ in range(5):  # weights requiring grad: the uncached path, the same update written out
        b = b + cfg.noise_std * torch.randn(b.shape, generator=gen)
        g = energy_grad(lambda z: net(z, y), b).clamp(-cfg.grad_clip, cfg.grad_clip)
        b = (b - cfg.step_size * g).clamp(0, 1)
    assert torch.equal(a, b)


def test_autocast_none_is_a_no_op():
    with autocast(torch.device("cpu"), "none"):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(torch.device("cpu"), "bf16"):
        assert torch.is_autocast_enabled("cpu")


def test_under_bf16_autocast_activations_and_cached_weights_stay_bf16():
    net = model()
    block = net.blocks[1]
    y = torch.nn.functional.one_hot(torch.arange(2), 10).float()
    with frozen(net), torch.autocast("cpu", torch.bfloat16):
        h = block(torch.rand(2, 16, 4, 4, dtype=torch.bfloat16), y)
        w = block.conv1.normalized_weight()
    assert h.dtype == torch.bfloat16  # fp32 biases/gains no longer promote the activations to fp32
    assert w.dtype == torch.bfloat16 and block.conv1.normalized_weight().dtype == torch.float32  # cache per mode
