"""continual: class-incremental split digits (5 tasks of 2 classes) with the EBM and the paper's baselines.

Every method (fine-tuning, EWC, SI, MAS, LwF, conditional-VAE replay, the EBM) runs the same task loop
on the same 400-400 MLP, for ``n_seeds`` seeds; one MLflow run per method. With ``joint``, the ceilings
``ebm_joint`` and ``mlp_joint``: the same EBM and the fine-tuned MLP trained on all classes as one task.
Outputs (written by stages/common/continual_runs.py): metrics/continual.json (the table beside the paper's
Table 1), plots/continual/<dataset>/<row>.csv, plots/images/continual/<dataset>/{accuracy,accuracy_matrix}.png.
"""

from __future__ import annotations

import argparse

from ebm.continual import split_tasks
from ebm.continual.experiment import add_paper, joint_tasks
from ebm.data import dequantize
from stages.common.continual_runs import print_summary, run_logged, write_outputs
from stages.common.data import load_split
from stages.common.io import UserError
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.sections import continual as continual_params
from stages.common.sections import data as data_params
from stages.common.sections.continual import method_params
from stages.common.tracking import stage_run


def main(args) -> None:
    params = load_params(data_params.SECTIONS, continual_params.SECTIONS)
    settings = params["continual"]
    c = settings.common
    if c.dataset not in params["download"].datasets:
        raise UserError(f"continual.dataset = {c.dataset!r}: not in download.datasets "
                        f"(add it: -S 'download.datasets=[digits,{c.dataset}]')")
    x, y, meta = load_split(c.dataset, "train")
    xt, yt, _ = load_split(c.dataset, "test")
    n_classes = meta["n_classes"]
    if n_classes % c.classes_per_task:
        raise UserError(f"continual.classes_per_task = {c.classes_per_task}: {n_classes} classes do not split evenly")
    data = ((dequantize(x, noise=False).flatten(1), y),
            (dequantize(xt, noise=False).flatten(1), yt))  # [N, D] in [0, 1]
    tasks = (split_tasks(y, n_classes, c.classes_per_task), split_tasks(yt, n_classes, c.classes_per_task))
    table = {}
    for name in c.methods:
        with stage_run("continual", name, method_params(params, name)) as run:
            table.update(run_logged(name, settings, data, tasks, n_classes, params["seed"], run))
    if c.joint:
        joint = (joint_tasks(y, n_classes), joint_tasks(yt, n_classes))
        for name, row in (("ebm", "ebm_joint"), ("finetune", "mlp_joint")):
            with stage_run("continual", row, method_params(params, name)) as run:
                table.update(run_logged(name, settings, data, joint, n_classes, params["seed"], run, row=row))
    add_paper(table)
    write_outputs(table, c.dataset, c.n_seeds, len(tasks[0]))
    print_summary(table, c.dataset, c.n_seeds)


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
