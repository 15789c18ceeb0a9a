"""report: one page with every experiment's numbers beside the paper's, the figures and the params.

Outputs: report/index.md (images beside it in report/images/) and a self-contained
report/index.html (images embedded). Logged to MLflow as artifacts.
"""

from __future__ import annotations

import argparse

import yaml

from stages.common.io import atomic_path
from stages.common.main import run_main
from stages.common.params import PARAMS, load_params, section_params
from stages.common.tracking import stage_run
from stages.report.document import to_html, to_markdown
from stages.report.sections import SECTIONS

REPORT = __import__("pathlib").Path("report")
TITLE = "Implicit Generation and Generalization in EBMs: the pipeline's results"

INTRO = ("Every number below was computed by this run of the pipeline (`dvc repro`); the paper's numbers sit beside "
         "ours where the paper gives a table. The embedded default uses 8x8 scikit-learn digits, small networks and "
         "minutes of CPU instead of CIFAR-10/ImageNet and days of GPUs, so our absolute numbers are not comparable "
         "with the paper's; each section says how ours was measured.")


def build() -> list[tuple]:
    blocks = [("h", 1, TITLE), ("p", INTRO)]
    for section in SECTIONS:
        blocks += section()
    raw = yaml.safe_load(PARAMS.read_text())
    blocks += [("h", 2, "Params that produced these results"), ("code", yaml.safe_dump(raw, sort_keys=False))]
    return blocks


def main(args) -> None:
    params = load_params()
    with stage_run("report", None, section_params(params, *params["_raw"])) as run:
        blocks = build()
        with atomic_path(REPORT) as tmp:
            tmp.mkdir()
            (tmp / "index.md").write_text(to_markdown(blocks, tmp))
            (tmp / "index.html").write_text(to_html(blocks, TITLE))
        run.log_artifact(REPORT / "index.html", "report")
        run.log_artifact(REPORT / "index.md", "report")
    n_img = sum(1 for b in blocks if b[0] == "img")
    n_tab = sum(1 for b in blocks if b[0] == "table")
    print(f"report: {n_tab} tables, {n_img} figures -> {REPORT}/index.html")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
