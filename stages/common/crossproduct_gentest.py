"""crossproduct's run of ebm.composition.gentest: the stage's progress bars, the fine-tuning curve logged to
MLflow, a missing slice as a one-line error."""

from __future__ import annotations

from tqdm import tqdm

from ebm.composition.gentest import GentestResult, MissingCombinations
from ebm.composition.gentest import run as gentest
from stages.common.composition import factor_from_checkpoint, train_loop
from stages.common.io import UserError


def run_gentest(name, data, cfg, train_cfg, langevin_cfg, orientation, gen, run) -> GentestResult:
    """Experiment ``name`` of ebm.composition.gentest.run (the same calls, in the same order)."""
    def fit_sum(trainer, batches, n_iters):
        train_loop(trainer, batches, n_iters, 10, run, f"crossproduct {name} (EBM)", f"{name}.ebm_")

    def progress(shares):
        return tqdm(shares, desc=f"crossproduct {name} (baseline)", unit="share")

    try:
        return gentest(name, data, factor_from_checkpoint, cfg, train_cfg, langevin_cfg, orientation, gen, fit_sum,
                       progress)
    except MissingCombinations as e:
        raise UserError(f"data/dsprites: {e}; keep the slice (dsprites.slice_orientation) and rerun "
                        "`dvc repro dsprites`") from None
