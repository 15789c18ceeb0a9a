"""Paper-scale runs, one command each: merge a config's params into params.yaml, then run its stages.

    python -m configs.paper cifar10_uncond                 # or: make paper CONFIG=cifar10_uncond
    python -m configs.paper imagenet32_cond --data /data/Imagenet32 --nproc 8
    python -m configs.paper mnist --no-run                 # only rewrite params.yaml

A config (configs/paper/<name>.yaml) holds ``params`` (overrides, merged into
params.yaml two ways: mappings key by key, everything else replaced; comments
kept), ``targets`` (the DVC stages to run, with their upstream stages) and, for
data read from a user path, ``data`` (the params key that ``--data`` sets).
The run is ``dvc exp run -n <name> <targets>``: an experiment that `dvc exp
show` and MLflow list by name. ``git checkout params.yaml`` returns to the
embedded default.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from stages.common.io import UserError
from stages.common.main import run_main
from stages.common.params import load_params
from stages.common.paths import PARAMS

CONFIGS = Path(__file__).resolve().parent / "paper"


def names() -> list[str]:
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def load_config(name: str, data: str | None = None, nproc: int | None = None) -> dict:
    """The config ``name`` with --data / --nproc applied to its params."""
    path = CONFIGS / f"{name}.yaml"
    if not path.exists():
        raise UserError(f"{path}: no such paper config (available: {', '.join(names())})")
    cfg = yaml.safe_load(path.read_text())
    params = cfg["params"]
    if cfg.get("data"):
        section, key = cfg["data"].split(".")
        if not (data or params[section].get(key)):
            raise UserError(f"{name}: reads its data from a path you give: --data /path (make paper CONFIG={name} "
                            f"DATA=/path); it sets {cfg['data']}")
        if data:
            params[section][key] = str(Path(data).expanduser().resolve())
    if nproc is not None:
        params.setdefault("train", {})["nproc"] = nproc
    return cfg


def merge(base, over) -> None:
    """Overrides into ``base`` in place: mappings merged key by key, all else replaced."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = inline(v)


def inline(v):
    """Lists and flat mappings written on one line, as params.yaml writes them."""
    if isinstance(v, list) or (isinstance(v, dict) and not any(isinstance(x, (dict, list)) for x in v.values())):
        out = CommentedSeq(v) if isinstance(v, list) else CommentedMap(v)
        out.fa.set_flow_style()
        return out
    if isinstance(v, dict):
        return CommentedMap({k: inline(x) for k, x in v.items()})
    return v


def merged_text(params_text: str, overrides: dict) -> str:
    """params.yaml's text with the overrides merged in, its comments kept (ruamel round trip)."""
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 120
    doc = rt.load(params_text)
    merge(doc, overrides)
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def main(args) -> None:
    cfg = load_config(args.config, args.data, args.nproc)
    text = merged_text(PARAMS.read_text(), cfg["params"])
    tmp = PARAMS.with_name(f".{PARAMS.name}.paper")
    tmp.write_text(text)
    try:
        load_params(tmp)  # a bad merge stops here, params.yaml untouched
    finally:
        tmp.unlink()
    PARAMS.write_text(text)
    cmd = ["dvc", "exp", "run", "-n", args.config, *cfg["targets"]]
    print(f"{args.config}: merged configs/paper/{args.config}.yaml into {PARAMS} (git diff {PARAMS} shows it; "
          f"git checkout {PARAMS} undoes it)")
    if args.no_run:
        print("run it with: " + " ".join(cmd))
        return
    print("running: " + " ".join(cmd), flush=True)
    code = subprocess.call(cmd)
    if code != 0:
        raise UserError(f"{args.config}: `{' '.join(cmd)}` failed (exit {code})")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", help=f"one of: {', '.join(names())}")
    p.add_argument("--data", help="the dataset's folder, for configs that read one from a user path (ImageNet)")
    p.add_argument("--nproc", type=int, help="processes (GPUs) for training: sets train.nproc")
    p.add_argument("--no-run", action="store_true", help="only merge into params.yaml")
    return p


if __name__ == "__main__":
    sys.exit(run_main(main, parser()))
