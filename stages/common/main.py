"""The entry wrapper of every stage: one-line errors and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator

from stages.common.io import UserError
from stages.common.threads import share_cores

_held = 0  # how many deferred_stop() blocks are open
_pending: int | None = None  # a SIGTERM that came while one was


def _stop(signum: int) -> None:
    print(f"error: stopped by {signal.Signals(signum).name}; a training stage resumes when run again", file=sys.stderr)
    raise SystemExit(128 + signum)


def _terminated(signum, frame) -> None:
    # What `timeout`, a scheduler or `docker stop` sends: unwind like Ctrl-C, so the MLflow run ends FAILED,
    # no half-written output is left and .resume/ is kept for the next run.
    global _pending
    if _held:
        _pending = signum
        return
    _stop(signum)


@contextlib.contextmanager
def deferred_stop() -> Iterator[None]:
    """A SIGTERM inside the block stops the stage at its end, not midway: an exception raised inside a
    tracking write can leave MLflow's SQLite session unable to mark the run FAILED."""
    global _held, _pending
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            signum, _pending = _pending, None
            _stop(signum)


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
