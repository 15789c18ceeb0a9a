"""What the params checkers share: the section modules (stages/common/sections, composition, fid,
trajectories) import it, and it imports none of them."""

from __future__ import annotations

from ebm.config import ConfigError
from ebm.sampling import PersistentConfig


def check_rounds(persist: PersistentConfig, p: str) -> None:
    if persist.settle_rounds > persist.rounds:
        raise ConfigError(f"{p}settle_rounds = {persist.settle_rounds}: must be <= {p}rounds ({persist.rounds})")
