"""Writes the report's scorecard into README.md, between its scorecard markers.

    python -m stages.report.readme          # after `dvc repro`, before committing the results

The block is computed from the metrics files, never typed: `tests/test_report.py` fails
when the README's block differs from what the committed metrics give.
"""

from __future__ import annotations

import re
from pathlib import Path

from stages.report.page import REPORT, read_metrics, scorecard_blocks
from stages.report.scorecard import scorecard
from stages.report.document import to_markdown

README = Path("README.md")
START, END = "<!-- scorecard:start (python -m stages.report.readme) -->", "<!-- scorecard:end -->"


def block() -> str:
    table = to_markdown(scorecard_blocks(scorecard(read_metrics))[2:], REPORT).strip()
    return re.sub(r"\]\(#([\w-]+)\)", rf"]({REPORT.as_posix()}/index.md#\1)", table)


def current(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"error: {README}: no scorecard markers ({START} ... {END})")
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def main() -> None:
    text = README.read_text()
    old, new = current(text), block()
    before, rest = text.split(START, 1)
    README.write_text(f"{before}{START}\n{new}\n{END}{rest.split(END, 1)[1]}")
    print(f"{README}: scorecard {'unchanged' if old == new else 'updated'}")


if __name__ == "__main__":
    main()
