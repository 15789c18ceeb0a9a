"""The report's page as blocks (heading, paragraph, table, figure, code) for ``document``: the title, the
scorecard, every experiment's section and the params; and every metric flattened for MLflow."""

from __future__ import annotations

from pathlib import Path

import yaml

from stages.common.params import PARAMS, flatten
from stages.common.paths import METRICS
from stages.report.sections import SECTIONS, load

REPORT = Path("report")
TITLE = "Implicit Generation and Generalization in EBMs: the pipeline's results"

INTRO = ("Every number below was computed by this run of the pipeline (`dvc repro`); the paper's numbers sit beside "
         "ours where the paper gives a table. The embedded default uses 8x8 scikit-learn digits, small networks and "
         "minutes of CPU instead of CIFAR-10/ImageNet and days of GPUs, so our absolute numbers are not comparable "
         "with the paper's; each claim below is judged by a rule on our own metrics, stated beside it.")


def read_metrics(rel: str) -> dict | None:
    return load(METRICS / rel)


def scorecard_blocks(card: list[tuple]) -> list[tuple]:
    """The scorecard's heading, note and table, from ``card = scorecard(read_metrics)``."""
    rows = [[("link", claim.name, claim.section), ours, claim.paper, v, claim.rule] for claim, ours, v in card]
    return [("h", 2, "Scorecard: the paper's claims, our numbers, the verdicts", "scorecard"),
            ("p", "Verdicts are computed from the metrics files by the rule in the last column (stages/report/"
                  "scorecard.py): reproduced when it holds, not reproduced when it fails, not comparable at this "
                  "scale when our run cannot test the claim, not run when a stage wrote no metrics."),
            ("table", ["claim", "ours", "paper", "verdict", "rule"], rows)]


def build(card: list[tuple]) -> list[tuple]:
    blocks = [("h", 1, TITLE), ("p", INTRO), *scorecard_blocks(card)]
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
