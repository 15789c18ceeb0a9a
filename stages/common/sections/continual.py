"""Params section of the continual-learning experiment: ``continual`` (its schema is
``ebm.continual.config``: the methods' settings are the library's)."""

from __future__ import annotations

from ebm.continual import build_continual

SECTIONS = {"continual": build_continual}
