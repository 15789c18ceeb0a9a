"""Checks every section of params.yaml at once (the first line of `make run`; not a DVC stage).

Each stage checks only the sections it reads, so that its DVC deps hold no other experiment's
code; this catches a bad value in a late stage's section before the early stages spend minutes.

    python -m stages.check_params [params.yaml]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.paths import PARAMS
from stages.common.sections.full import SCHEMAS


def main(args) -> None:
    params = load_params(*SCHEMAS, path=args.path)
    print(f"{args.path}: all {len(params) - 1} sections valid")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=PARAMS)
    run_main(main, parser)
