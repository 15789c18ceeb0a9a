"""Resuming a killed training stage from its last checkpoint.

DVC deletes a stage's outputs before running it, so work in progress lives in
``.resume/<name>/`` (git-ignored, not a DVC output): ``state.pt`` (weights,
optimiser, replay buffer, RNG states, step, curves so far) written atomically
every ``resume_every`` steps, and the history checkpoints. A fingerprint of the
params, data and code guards against resuming from a run with other settings;
a state whose history checkpoints do not all load is not resumed either.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from stages.common.io import UserError, load_torch, save_torch

ROOT = Path(".resume")


CODE = Path(__file__).resolve().parents[2]  # the checkout holding ebm/ and stages/


def code_hash(root: Path | None = None) -> str:
    """Of every .py file of ebm/ and stages/: a run resumed under other code would match neither version."""
    root = root or CODE
    h = hashlib.sha256()
    for f in sorted(p for pkg in ("ebm", "stages") for p in (root / pkg).rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps([parts, code_hash()], sort_keys=True, default=str).encode()).hexdigest()[:16]


@contextlib.contextmanager
def exclusive(name: str, command: str) -> Iterator[None]:
    """One run at a time on ``.resume/<name>``: a second would resume from the first's live state.

    ``flock`` is released by the kernel when the holder dies, so a killed run leaves no stale lock.
    """
    lock = ROOT / f"{name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{lock}: another `{command}` is running; wait for it to end or stop it") from None
        yield


class ResumeDir:
    def __init__(self, name: str, key: str):
        self.dir, self.key = ROOT / name, key
        self.history = self.dir / "history"

    def load(self) -> dict | None:
        """The saved state if it belongs to these settings; otherwise start clean."""
        state_file = self.dir / "state.pt"
        if state_file.exists():
            try:
                state = load_torch(state_file, "resume state", "rm -r .resume")
            except Exception:
                state = None
            if state is not None and state.get("key") == self.key and self._history_ok():
                return state
            print(f"{self.dir}: left by a run with other settings or unreadable; starting from scratch")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.history.mkdir(parents=True)
        return None

    def _history_ok(self) -> bool:
        """Drop what a kill mid-write left (``.step_*.pt.tmp<pid>``); every checkpoint kept must load."""
        for f in self.history.iterdir() if self.history.is_dir() else ():
            if not f.name.startswith("step_"):
                shutil.rmtree(f) if f.is_dir() else f.unlink()
            else:
                try:
                    load_torch(f, "history checkpoint", "rm -r .resume")
                except UserError:
                    return False
        return True

    def save(self, state: dict) -> None:
        save_torch(self.dir / "state.pt", {**state, "key": self.key})

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
