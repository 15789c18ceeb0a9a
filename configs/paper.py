"""Paper-scale runs, one command each, as DVC experiments that leave the tracked params.yaml alone.

    python -m configs.paper cifar10_uncond                 # or: make paper CONFIG=cifar10_uncond
    python -m configs.paper imagenet32_cond --data /data/Imagenet32 --nproc 8
    python -m configs.paper mnist --no-run                 # only print the command

A config (configs/paper/<name>.yaml) holds ``params`` (overrides: mappings key by key, everything
else replaced), ``targets`` (the DVC stages to run, with their upstream stages) and, for data read
from a user path, ``data`` (the params key that ``--data`` sets). The overrides are checked against
the params schema first, then the run is

    dvc exp run --temp -n <name> -S ++train.n_steps=60 -S ... <targets>

in a temporary copy of the workspace: params.yaml in the workspace is never written, and the
experiment (its params, metrics and outputs) is in `dvc exp show` and in MLflow under its name.
`dvc exp apply <name>` brings it into the workspace when you want its models there.
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
from stages.common.sections.full import SCHEMAS

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


def hydra_value(v) -> str:
    """A value in the override grammar DVC's --set-param reads (Hydra's)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        if "'" not in v:
            return f"'{v}'"
        if '"' not in v:
            return f'"{v}"'
        raise UserError(f"{v!r}: a value with both quote characters cannot be passed to dvc exp run -S")
    if isinstance(v, list):
        return "[" + ",".join(hydra_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{hydra_value(x)}" for k, x in v.items()) + "}"
    raise UserError(f"{v!r}: unsupported params value type {type(v).__name__}")


def overrides(params: dict, prefix: str = "") -> list[str]:
    """``-S`` arguments with ``merge``'s semantics: one per leaf of a nested mapping (so the rest of that
    section is kept), ``++`` so keys params.yaml lacks are added."""
    out = []
    for k, v in params.items():
        if isinstance(v, dict) and v:
            out += overrides(v, f"{prefix}{k}.")
        else:
            out.append(f"++{prefix}{k}={hydra_value(v)}")
    return out


def command(name: str, cfg: dict) -> list[str]:
    """The `dvc exp run` of a config: a temporary workspace, the overrides, its targets."""
    return ["dvc", "exp", "run", "--temp", "-n", name, *[a for o in overrides(cfg["params"]) for a in ("-S", o)],
            *cfg["targets"]]


def main(args) -> None:
    cfg = load_config(args.config, args.data, args.nproc)
    tmp = PARAMS.with_name(f".{PARAMS.name}.paper")
    tmp.write_text(merged_text(PARAMS.read_text(), cfg["params"]))
    try:
        load_params(*SCHEMAS, path=tmp)  # a bad override stops here, before DVC starts
    finally:
        tmp.unlink()
    cmd = command(args.config, cfg)
    shown = " ".join(a if "=" not in a else f'"{a}"' for a in cmd)
    if args.no_run:
        print(f"{args.config}: run it with:\n{shown}")
        return
    print(f"{args.config}: running (params.yaml untouched; `dvc exp show` lists it as {args.config}):\n{shown}",
          flush=True)
    code = subprocess.call(cmd)
    if code != 0:
        raise UserError(f"{args.config}: `{shown}` failed (exit {code})")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", help=f"one of: {', '.join(names())}")
    p.add_argument("--data", help="the dataset's folder, for configs that read one from a user path (ImageNet)")
    p.add_argument("--nproc", type=int, help="processes (GPUs) for training: sets train.nproc")
    p.add_argument("--no-run", action="store_true", help="only check the config and print the command")
    return p


if __name__ == "__main__":
    sys.exit(run_main(main, parser()))
