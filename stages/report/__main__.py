"""report: one page that opens with the paper's claims and our verdicts, then every experiment.

Outputs: report/index.md (committed with the results; its images link to plots/, so it reads on
a fresh clone and on the repository's web page) and a self-contained report/index.html (images
embedded, DVC-cached). Logged to MLflow as artifacts, the scorecard also as a table.
`python -m stages.report.readme` writes the same scorecard into the README.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from stages.common.io import atomic_path
from stages.common.main import run_main
from stages.common.params import PARAMS, flatten, load_params, section_params
from stages.common.paths import METRICS
from stages.common.tracking import stage_run
from stages.report.document import to_html, to_markdown
from stages.report.scorecard import scorecard
from stages.report.sections import SECTIONS, load

REPORT = Path("report")
TITLE = "Implicit Generation and Generalization in EBMs: the pipeline's results"

INTRO = ("Every number below was computed by this run of the pipeline (`dvc repro`); the paper's numbers sit beside "
         "ours where the paper gives a table. The embedded default uses 8x8 scikit-learn digits, small networks and "
         "minutes of CPU instead of CIFAR-10/ImageNet and days of GPUs, so our absolute numbers are not comparable "
         "with the paper's; each claim below is judged by a rule on our own metrics, stated beside it.")


def read_metrics(rel: str) -> dict | None:
    return load(METRICS / rel)


def scorecard_blocks() -> list[tuple]:
    rows = [[("link", claim.name, claim.section), ours, claim.paper, v, claim.rule]
            for claim, ours, v in scorecard(read_metrics)]
    return [("h", 2, "Scorecard: the paper's claims, our numbers, the verdicts", "scorecard"),
            ("p", "Verdicts are computed from the metrics files by the rule in the last column (stages/report/"
                  "scorecard.py): reproduced when it holds, not reproduced when it fails, not comparable at this "
                  "scale when our run cannot test the claim, not run when a stage wrote no metrics."),
            ("table", ["claim", "ours", "paper", "verdict", "rule"], rows)]


def build() -> list[tuple]:
    blocks = [("h", 1, TITLE), ("p", INTRO), *scorecard_blocks()]
    for section in SECTIONS:
        blocks += section()
    raw = yaml.safe_load(PARAMS.read_text())
    blocks += [("h", 2, "Params that produced these results", "params"),
               ("code", yaml.safe_dump(raw, sort_keys=False))]
    return blocks


def all_metrics() -> dict[str, float]:
    """Every number of every metrics file, flattened under its path: metrics/evaluate/digits_cond.json's
    fd_single -> evaluate.digits_cond.fd_single (the keys `dvc metrics show` has)."""
    out = {}
    for path in sorted(METRICS.rglob("*.json")):
        prefix = ".".join(path.relative_to(METRICS).with_suffix("").parts) + "."
        out.update({k: v for k, v in flatten(load(path) or {}, prefix).items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)})
    return out


def main(args) -> None:
    params = load_params()  # the report only lists the params (each stage has checked its own)
    flat = section_params(params, *params["_raw"])
    with stage_run("report", None, flat) as run:
        run.log_experiment(flat, all_metrics())  # the DVC experiment's parent run: one row to compare
        blocks = build()
        card = scorecard(read_metrics)
        pages = {"index.md": to_markdown(blocks, REPORT), "index.html": to_html(blocks, TITLE)}
        for name, text in pages.items():  # report/ also holds DVC's .gitignore: write the pages, not the folder
            with atomic_path(REPORT / name) as tmp:
                tmp.write_text(text)
        for f in ("index.html", "index.md"):
            run.log_artifact(REPORT / f, "report")
        run._call("log_table", data={"claim": [c.name for c, _, _ in card], "ours": [o for _, o, _ in card],
                       "paper": [c.paper for c, _, _ in card], "verdict": [v for _, _, v in card],
                       "rule": [c.rule for c, _, _ in card]}, artifact_file="report/scorecard.json")  # safe if MLflow is down
    n_img = sum(1 for b in blocks if b[0] == "img")
    n_tab = sum(1 for b in blocks if b[0] == "table")
    held = sum(v == "reproduced" for _, _, v in card)
    print(f"report: {held} of {len(card)} claims reproduced; {n_tab} tables, {n_img} figures -> {REPORT}/index.html")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
