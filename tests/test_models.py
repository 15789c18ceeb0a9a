"""Energy networks: shapes, conditioning, spectral norm."""

import pytest
import torch

from ebm.models import NETWORKS, build_energy, power_iteration
from ebm.models.spectral import SNConv2d

SIZES = {"digits_resnet": (1, 8), "resnet32": (3, 32), "resnet32_large": (3, 32), "resnet32_wider": (3, 32),
         "resnet128": (3, 128), "mnist": (1, 28), "mlp": (1, 8)}


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("label_dim", [0, 10])
def test_every_network_gives_one_energy_per_input(name, label_dim):
    c, s = SIZES[name]
    model = build_energy(name, c, label_dim, image_size=s)
    x = torch.rand(2, c, s, s)
    y = torch.tensor([1, 7]) if label_dim else None
    e = model(x, y)
    assert e.shape == (2,) and torch.isfinite(e).all()


def test_labels_change_the_energy():
    torch.manual_seed(0)
    model = build_energy("digits_resnet", 1, label_dim=10)
    for p in model.parameters():  # move the label parameters away from their init
        p.data.add_(0.1 * torch.randn_like(p))
    x = torch.rand(1, 1, 8, 8).repeat(2, 1, 1, 1)
    e = model(x, torch.tensor([0, 1]))
    assert not torch.isclose(e[0], e[1])
    # continuous label vectors are accepted too (dSprites-style factors)
    assert model(x, torch.rand(2, 10)).shape == (2,)


def test_power_iteration_brings_the_spectral_norm_to_one():
    torch.manual_seed(0)
    conv = SNConv2d(4, 8)
    for _ in range(50):
        power_iteration(conv)
    sigma = torch.linalg.matrix_norm(conv.normalized_weight().flatten(1), ord=2)
    assert abs(sigma.item() - 1.0) < 1e-3


def test_byte_mask_dropout_keeps_1_minus_p_scales_the_rest_and_masks_the_gradient_alike():
    from ebm.models.resnet import dropout

    torch.manual_seed(0)
    x = torch.ones(200_000, requires_grad=True)
    y = dropout(x, 0.5, training=True)
    kept = y > 0
    assert abs(kept.float().mean().item() - 0.5) < 0.01
    assert torch.all(y[kept] == 2.0)
    y.sum().backward()
    assert torch.equal(x.grad > 0, kept)  # dropped elements get no gradient
    assert dropout(x, 0.5, training=False) is x


def test_a_frozen_label_vector_is_reused_only_while_label_and_weights_are_the_same():
    from ebm.models.conditioning import LabelAffine
    from ebm.sampling.langevin import frozen

    torch.manual_seed(0)
    m = LabelAffine(5, 3, init=0.0)
    torch.nn.init.normal_(m.weight)
    y = torch.randn(4, 5)
    with frozen(m):
        first = m(y)
        assert m(y) is first  # a chain's steps: computed once
        other = torch.randn(4, 5)
        torch.testing.assert_close(m(other), other @ m.weight)  # another label: its own vector
        y.mul_(2)  # the same tensor changed in place
        torch.testing.assert_close(m(y), y @ m.weight)
        with torch.no_grad():
            m.weight.add_(1.0)  # an optimiser step between chains
        torch.testing.assert_close(m(y), y @ m.weight)
    out = m(y)  # trainable again: no cache, gradients flow
    assert out.requires_grad
