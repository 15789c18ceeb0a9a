"""Resuming a killed training stage from its last checkpoint.

DVC deletes a stage's outputs before running it, so work in progress lives in
``.resume/<name>/`` (git-ignored, not a DVC output): ``state.pt`` (weights,
optimiser, replay buffer, RNG states, step, curves so far) written atomically
every ``resume_every`` steps, and the history checkpoints. A fingerprint of the
params and data guards against resuming from a run with other settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from stages.common.io import load_torch, save_torch

ROOT = Path(".resume")


def fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


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
            if state is not None and state.get("key") == self.key:
                return state
            print(f"{self.dir}: left by a run with other settings or unreadable; starting from scratch")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.history.mkdir(parents=True)
        return None

    def save(self, state: dict) -> None:
        save_torch(self.dir / "state.pt", {**state, "key": self.key})

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
