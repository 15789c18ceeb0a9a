"""Every project module a stage runs is one of that stage's DVC deps.

A stage's code is its `python -m stages.<name>` module and every project module
it imports, at the top or inside a function, transitively. If one of those
files is not covered by a dep, editing it would leave committed results that no
longer match the committed code, and `dvc status` would not say so.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ebm", "stages", "configs")


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def imported_modules(path: Path, name: str) -> set[str]:
    """Project modules `path` imports anywhere (functions included), with their parent packages."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]  # what `from .x` is relative to
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    modules = set()
    for dotted in found:
        parts = dotted.split(".")
        if parts[0] not in PACKAGES:
            continue
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
            if module_file(".".join(parts[:i])):
                modules.add(".".join(parts[:i]))
    return modules


def code_files(entry: str) -> set[str]:
    """The files of `entry` (a module, or a package run by its __main__) and of every project module it reaches."""
    seen, files, todo = set(), set(), [entry, f"{entry}.__main__"]
    while todo:
        name = todo.pop()
        if name in seen or (path := module_file(name)) is None:
            continue
        seen.add(name)
        files.add(path.relative_to(ROOT).as_posix())
        todo.extend(imported_modules(path, name))
    return files


def pipeline_stages():
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return [(s.addressing, s.cmd, [d.def_path for d in s.deps]) for s in repo.index.stages]


STAGES = pipeline_stages()


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from ebm.data import arrays\n    from .common import io\n")
    found = imported_modules(source, "stages.probe")
    assert {"ebm", "ebm.data", "ebm.data.arrays", "stages.common", "stages.common.io"} <= found


@pytest.mark.parametrize("name,cmd,deps", STAGES, ids=[s[0] for s in STAGES])
def test_stage_deps_cover_every_module_it_imports(name, cmd, deps):
    entry = re.search(r"python -m (\S+)", cmd)
    assert entry, f"{name}: cmd is not `python -m stages.<module>`: {cmd}"
    deps = [d.rstrip("/") for d in deps]
    missing = sorted(f for f in code_files(entry.group(1))
                     if not any(f == d or f.startswith(d + "/") for d in deps))
    assert not missing, (f"stage {name} imports files none of its deps cover: {missing} "
                         "(`python -m tests.test_dvc_deps` prints every stage's code deps)")


@pytest.mark.parametrize("name,cmd,deps", STAGES, ids=[s[0] for s in STAGES])
def test_stage_code_deps_hold_only_code_it_imports(name, cmd, deps):
    """The other direction: a code dep the stage does not import would rerun it when unrelated code
    changes (editing the trajectory models must not retrain the image EBMs)."""
    files = code_files(re.search(r"python -m (\S+)", cmd).group(1))
    code = [d.rstrip("/") for d in deps if d.split("/")[0] in PACKAGES]
    unused = [d for d in code if not any(f == d or f.startswith(d + "/") for f in files)]
    assert not unused, f"stage {name} depends on code it never imports: {unused}"


def test_each_experiment_reaches_only_its_own_library_code():
    """Who reruns when a package changes: the image stages never reach the trajectory, composition or
    continual code, and those experiments never reach each other's."""
    owners = {"ebm/trajectories": ("record", "train_traj", "evaluate_traj"),
              "ebm/composition": ("toy2d", "dsprites", "factor_judge", "train_factor", "compose", "crossproduct"),
              "ebm/continual": ("continual",), "ebm/generalization": ("restore", "crossclass", "ood", "robustness"),
              "ebm/trajectories/models.py": ("train_traj", "evaluate_traj"),  # recording never reaches the models
              "stages/common/sections/trajectories.py": ("train_traj", "evaluate_traj"),
              "stages/common/sections/composition.py": ("toy2d", "dsprites", "factor_judge", "train_factor",
                                                        "compose", "crossproduct")}
    for name, cmd, _ in STAGES:
        files = code_files(re.search(r"python -m (\S+)", cmd).group(1))
        for path, stages in owners.items():
            reached = any(f == path or f.startswith(path + "/") for f in files)
            assert reached == (name.split("@")[0] in stages), f"{name} {'reaches' if reached else 'misses'} {path}"


def code_deps(entry: str) -> list[str]:
    """What dvc.yaml lists for a stage's code: its import closure, an ebm subpackage as a folder when the
    stage runs all of it (``python -m tests.test_dvc_deps`` prints them for every stage)."""
    files, out = code_files(entry), set()
    for f in files:
        parts = f.split("/")
        if parts[0] == "ebm" and len(parts) > 2:
            package = "/".join(parts[:2])
            whole = {p.relative_to(ROOT).as_posix() for p in (ROOT / package).rglob("*.py")}
            out.add(package if whole <= files else f)
        else:
            out.add(f)
    return sorted(out)


if __name__ == "__main__":
    for name, cmd, _ in STAGES:
        entry = re.search(r"python -m (\S+)", cmd).group(1)
        print(f"{name}:\n  deps: [{', '.join(code_deps(entry))}]")
