"""Writing outputs so that a failed or killed stage leaves nothing half-written."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _recover(path: Path) -> None:
    """Undo what a writer killed inside ``atomic_path`` left beside ``path``.

    Killed between its two renames, it left ``path`` missing and the previous output as
    ``.<name>.old<pid>``: put that back. Any ``.<name>.tmp<pid>`` (a half-written output) is removed.
    Only leftovers of processes that are gone are touched.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(tmp|old)(\d+)")
    for stale in path.parent.iterdir():
        m = pattern.fullmatch(stale.name)
        if m is None or _alive(int(m[2])):
            continue
        if m[1] == "old" and not path.exists():
            os.replace(stale, path)
        elif stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yields a temporary sibling path; renamed onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir():  # a stage run by hand over an earlier output (DVC removes outs first)
            old = path.with_name(f".{path.name}.old{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_json(path: Path, obj: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_torch(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_npz(path: Path, **arrays) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def write_csv(path: Path, rows: list[dict]) -> None:
    keys = list(rows[0]) if rows else []
    with atomic_path(path) as tmp:
        lines = [",".join(keys)] + [",".join(f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows]
        tmp.write_text("\n".join(lines) + "\n")


def _upscaled(images: torch.Tensor, scale: int) -> torch.Tensor:
    x = images.detach().float().clamp(0, 1)
    return torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest") if scale > 1 else x


def save_grid(path: Path, images: torch.Tensor, nrow: int = 10, scale: int = 4) -> None:
    """A PNG grid of images in [0, 1], upscaled (nearest) so 8x8 digits are visible."""
    from torchvision.utils import save_image

    with atomic_path(path) as tmp:
        save_image(_upscaled(images, scale), tmp, nrow=nrow, padding=2, pad_value=0.5, format="png")


def grid_array(images: torch.Tensor, nrow: int = 10, scale: int = 4) -> np.ndarray:
    """The same grid as ``save_grid``, as a uint8 array [H, W, 3] (for MLflow's image series)."""
    from torchvision.utils import make_grid

    g = make_grid(_upscaled(images, scale), nrow=nrow, padding=2, pad_value=0.5)
    return (g.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


class UserError(Exception):
    """A problem the user fixes (bad params, missing file); printed as one line."""


def load_torch(path: Path, what: str, fix: str):
    """torch.load of tensors and plain containers only, with a one-line error naming the file.

    ``weights_only=True``: a checkpoint is never unpickled as arbitrary objects, so a crafted
    file placed where a checkpoint goes cannot run code; it is refused like a corrupt one.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: missing {what}; run `{fix}`")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise UserError(f"{path}: refused {what}: it holds objects other than tensors and plain containers "
                        f"(a checkpoint this pipeline wrote never does); run `{fix}`") from None
    except Exception as e:  # truncated or not a torch file
        raise UserError(f"{path}: corrupt {what} ({type(e).__name__}); run `{fix}`") from None


def load_npz(path: Path, what: str, fix: str, keys: tuple[str, ...] = ()) -> dict:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: missing {what}; run `{fix}`")
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except Exception as e:
        raise UserError(f"{path}: corrupt {what} ({type(e).__name__}); run `{fix}`") from None
    missing = [k for k in keys if k not in out]
    if missing:
        raise UserError(f"{path}: corrupt {what} (no array {missing[0]!r}); run `{fix}`")
    return out
