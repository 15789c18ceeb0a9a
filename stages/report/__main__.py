"""report: one page that opens with the paper's claims and our verdicts, then every experiment.

Outputs: report/index.md (committed with the results; its images link to plots/, so it reads on
a fresh clone and on the repository's web page) and a self-contained report/index.html (images
embedded, DVC-cached). Logged to MLflow as artifacts, the scorecard also as a table.
`python -m stages.report.readme` writes the same scorecard into the README.
"""

from __future__ import annotations

import argparse

from stages.common.io import atomic_path
from stages.common.main import run_main
from stages.common.params import load_params, section_params
from stages.common.tracking import stage_run
from stages.report.document import to_html, to_markdown
from stages.report.page import REPORT, TITLE, all_metrics, build, read_metrics
from stages.report.scorecard import scorecard


def main(args) -> None:
    params = load_params()  # the report only lists the params (each stage has checked its own)
    flat = section_params(params, *params["_raw"])
    with stage_run("report", None, flat) as run:
        run.log_experiment(flat, all_metrics())  # the DVC experiment's parent run: one row to compare
        card = scorecard(read_metrics)  # computed once: the page and the MLflow table show the same verdicts
        blocks = build(card)
        pages = {"index.md": to_markdown(blocks, REPORT), "index.html": to_html(blocks, TITLE)}
        for name, text in pages.items():  # report/ also holds DVC's .gitignore: write the pages, not the folder
            with atomic_path(REPORT / name) as tmp:
                tmp.write_text(text)
        for f in ("index.html", "index.md"):
            run.log_artifact(REPORT / f, "report")
        run.log_table({"claim": [c.name for c, _, _ in card], "ours": [o for _, o, _ in card],
                       "paper": [c.paper for c, _, _ in card], "verdict": [v for _, _, v in card],
                       "rule": [c.rule for c, _, _ in card]}, "report/scorecard.json")
    n_img = sum(1 for b in blocks if b[0] == "img")
    n_tab = sum(1 for b in blocks if b[0] == "table")
    held = sum(v == "reproduced" for _, _, v in card)
    print(f"report: {held} of {len(card)} claims reproduced; {n_tab} tables, {n_img} figures -> {REPORT}/index.html")


if __name__ == "__main__":
    run_main(main, argparse.ArgumentParser(description=__doc__.splitlines()[0]))
