"""The sampler: no weight gradients, frozen spectral norm, both update forms."""

import torch

from ebm.models import build_energy, sn_vectors
from ebm.sampling import LangevinConfig, langevin


def test_chain_computes_no_weight_gradients_and_keeps_sn_vectors():
    torch.manual_seed(0)
    model = build_energy("digits_resnet", 1, label_dim=10)
    y = torch.randint(0, 10, (16,))
    before = sn_vectors(model)
    x = langevin(lambda z: model(z, y), torch.rand(16, 1, 8, 8), LangevinConfig(n_steps=5), models=(model,))
    assert all(p.grad is None for p in model.parameters())
    assert all(p.requires_grad for p in model.parameters())  # restored after the chain
    assert all(torch.equal(a, b) for a, b in zip(before, sn_vectors(model)))
    assert not x.requires_grad and x.shape == (16, 1, 8, 8)


def test_textbook_form_samples_a_known_gaussian():
    # E(x) = 1/2 (x - mu)^T P (x - mu): samples should have mean mu and covariance P^-1.
    mu = torch.tensor([1.0, -2.0])
    cov = torch.tensor([[1.0, 0.6], [0.6, 0.5]])
    prec = torch.linalg.inv(cov)

    def energy(x):
        d = x - mu
        return 0.5 * ((d @ prec) * d).sum(1)

    cfg = LangevinConfig(n_steps=600, step_size=0.01, form="textbook", clamp=False)
    gen = torch.Generator().manual_seed(0)
    x = langevin(energy, torch.zeros(4000, 2), cfg, generator=gen)
    assert torch.allclose(x.mean(0), mu, atol=0.06)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.06)


def test_decoupled_form_clips_the_move_and_clamps():
    torch.manual_seed(0)

    def steep(x):  # gradient 1000 everywhere: every pixel would jump without the clip
        return 1000 * x.flatten(1).sum(1)

    cfg = LangevinConfig(n_steps=1, step_size=10.0, noise_std=0.0, grad_clip=0.01)
    x0 = torch.full((4, 1, 8, 8), 0.5)
    x1 = langevin(steep, x0, cfg)
    assert torch.allclose(x1, x0 - 0.1)  # step * clip
    x2 = langevin(steep, x0, LangevinConfig(n_steps=20, step_size=10.0, noise_std=0.0, grad_clip=0.01))
    assert x2.min() >= 0 and torch.allclose(x2, torch.zeros_like(x2))


def test_mask_moves_only_the_masked_part():
    mask = torch.zeros(2, 1, 8, 8)
    mask[..., 4:, :] = 1
    x0 = torch.rand(2, 1, 8, 8)
    x = langevin(lambda z: z.flatten(1).sum(1), x0, LangevinConfig(n_steps=3), mask=mask)
    assert torch.equal(x[..., :4, :], x0[..., :4, :])
    assert not torch.equal(x[..., 4:, :], x0[..., 4:, :])


class Quadratic(torch.nn.Module):
    """E(x) = a * |x - c|^2 per sample: its Langevin chains settle at c."""

    def __init__(self, a: float, c: float):
        super().__init__()
        self.a, self.c = a, c

    def forward(self, x, y=None):
        return self.a * ((x - self.c) ** 2).flatten(1).sum(1)


def test_ensemble_modes_rotate_sum_and_mean():
    from ebm.sampling import PersistentConfig, persistent_sample

    models = [Quadratic(1.0, 0.2), Quadratic(1.0, 0.6)]
    lcfg = LangevinConfig(n_steps=40, step_size=0.05, noise_std=0.0, grad_clip=0.0, clamp=False)
    out = {}
    for mode in ("rotate", "sum", "mean"):
        cfg = PersistentConfig(n_chains=8, rounds=4, reset_prob=0.0, relabel_prob=0.0, settle_rounds=0,
                               ensemble_mode=mode)
        out[mode], _ = persistent_sample(models, lambda n: torch.zeros(n, 1, 2, 2), None, 0, lcfg, cfg)
    # sum and mean share their minimum (the mean of the centres) but sum moves twice as fast
    assert torch.allclose(out["mean"], torch.full_like(out["mean"], 0.4), atol=1e-3)
    assert torch.allclose(out["sum"], torch.full_like(out["sum"], 0.4), atol=1e-3)
    # rotate ends under the last model in turn (round 3 -> models[1]), near its centre
    assert torch.allclose(out["rotate"], torch.full_like(out["rotate"], 0.6), atol=2e-2)
    sum_grad = torch.autograd.functional.jacobian(lambda z: sum(m(z) for m in models).sum(), torch.zeros(1, 1, 2, 2))
    from ebm.sampling.persistent import mean_energy
    mean_grad = torch.autograd.functional.jacobian(lambda z: mean_energy(models)(z, None).sum(), torch.zeros(1, 1, 2, 2))
    assert torch.allclose(sum_grad, 2 * mean_grad)
