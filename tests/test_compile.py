"""torch.compile of the network the Langevin chain calls: the same samples as eager on a fixed seed."""

import pytest
import torch

from ebm.accel import AccelConfig, accelerate
from ebm.data import uniform_like
from ebm.models import build_energy
from ebm.sampling import LangevinConfig, langevin
from ebm.training import TrainConfig, Trainer


def trained_pair(compile_: bool):
    torch.manual_seed(0)
    net = build_energy("digits_resnet", 1, 10)
    fast, chain = accelerate(net, AccelConfig(device="cpu", compile=compile_), torch.device("cpu"))
    trainer = Trainer(fast, TrainConfig(batch_size=8), LangevinConfig(n_steps=4), uniform_like((1, 8, 8)),
                      chain_model=chain)
    data, labels = torch.rand(8, 1, 8, 8), torch.arange(8)
    torch.manual_seed(1)
    for _ in range(2):
        trainer.step(data, labels)
    return net, chain


@pytest.mark.slow  # Inductor's C++ compile takes 30-60 s on a busy 2-core CPU
def test_compiled_chain_gives_the_eager_samples_and_training_steps():
    eager_net, eager = trained_pair(False)
    comp_net, comp = trained_pair(True)
    assert comp is not comp_net and type(comp).__name__ == "OptimizedModule"
    for (k, v), w in zip(eager_net.named_parameters(), comp_net.parameters()):  # two steps, chains compiled
        # An Adam step moves a weight by ~lr = 3e-4 whatever its gradient's size, so where a gradient is ~0
        # compiled float reassociation can change the step by a fraction of lr: bound every weight by lr / 2
        # and all but 5% of them tightly (measured here: 274 of 9,216 in one conv, at most 6.8e-5).
        diff = (w - v).abs()
        assert diff.max() <= 1.5e-4, (k, float(diff.max()))
        assert (diff > 2e-5 + 1e-3 * v.abs()).float().mean() <= 0.05, k
    x0, y = torch.rand(16, 1, 8, 8), torch.arange(16) % 10
    cfg = LangevinConfig(n_steps=10)
    out = [langevin(lambda z, m=m: m(z, y), x0, cfg, models=(m,), generator=torch.Generator().manual_seed(2))
           for m in (eager.eval(), comp.eval())]
    assert torch.allclose(out[0], out[1], atol=1e-4)
    assert (out[0] - x0).abs().max() > 0.01  # the chains moved
