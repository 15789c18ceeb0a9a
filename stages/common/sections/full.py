"""Every params section's checker: what ``configs.paper`` and the tests validate a whole params
file against. A stage never imports this (its deps would then hold every experiment's code)."""

from __future__ import annotations

from stages.common.sections import (
    composition, continual, data, fid, generalization, images, record, trajectories,
)

SCHEMAS = (data.SECTIONS, images.SECTIONS, fid.SECTIONS, generalization.SECTIONS, composition.SECTIONS,
           continual.SECTIONS, record.SECTIONS, trajectories.SECTIONS)
