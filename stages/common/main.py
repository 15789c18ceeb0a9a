"""The entry wrapper of every stage: one-line errors and a non-zero exit."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable

from stages.common.io import UserError
from stages.common.threads import share_cores


def _terminated(signum, frame) -> None:
    # What `timeout`, a scheduler or `docker stop` sends: unwind like Ctrl-C, so the MLflow run ends FAILED,
    # no half-written output is left and .resume/ is kept for the next run.
    print(f"error: stopped by {signal.Signals(signum).name}; a training stage resumes when run again", file=sys.stderr)
    raise SystemExit(128 + signum)


def run_main(main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    args = parser.parse_args()
    share_cores()
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


def variant_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--variant", required=True, help="a key of `variants` in params.yaml")
    return p
