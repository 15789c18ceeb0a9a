from ebm.sampling.langevin import LangevinConfig, energy_grad, frozen, langevin, langevin_step
from ebm.sampling.persistent import PersistentConfig, persistent_sample, sum_energy
from ebm.sampling.replay import ReplayBuffer, init_chains

__all__ = [
    "LangevinConfig", "PersistentConfig", "ReplayBuffer", "energy_grad", "frozen", "init_chains",
    "langevin", "langevin_step", "persistent_sample", "sum_energy",
]
