"""The library stays a library: `ebm` reads no config files, logs nowhere and knows no stage."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"yaml", "ruamel", "mlflow", "dvc", "stages", "configs"}  # config files, tracking, the pipeline


def top_level_imports(path: Path) -> set[str]:
    """First names of every absolute import in ``path``, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_walk_sees_imports_inside_functions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\ndef f():\n    import mlflow.pytorch\n    from yaml import safe_load\n")
    assert top_level_imports(probe) == {"os", "mlflow", "yaml"}


def test_ebm_imports_no_yaml_mlflow_dvc_or_stages():
    offenders = {p.relative_to(ROOT).as_posix(): sorted(top_level_imports(p) & FORBIDDEN)
                 for p in sorted((ROOT / "ebm").rglob("*.py"))}
    assert not {k: v for k, v in offenders.items() if v}, offenders


PACKAGES = ("ebm", "stages", "configs", "bench")


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> set[str]:
    """The project modules ``path`` imports, at the top or inside functions: ``from a.b import c`` is a.b.c
    when c is a module, else a.b (a package's own ``__init__`` counts only when it is what is imported)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if module_file(f"{base}.{a.name}") else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.split(".")[0] in PACKAGES and module_file(t) and t != name)
    return out


def import_cycles() -> list[list[str]]:
    graph = {module_name(p): project_imports(p) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_the_cycle_walk_finds_a_cycle_through_a_function_level_import(tmp_path, monkeypatch):
    for pkg in ("ebm", "stages", "configs", "bench"):
        (tmp_path / pkg).mkdir()
    (tmp_path / "stages" / "a.py").write_text("from stages import b\n")
    (tmp_path / "stages" / "b.py").write_text("def f():\n    from stages.a import x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)  # the walk reads the module-level ROOT
    assert import_cycles() == [["stages.a", "stages.b", "stages.a"]]


def test_no_import_cycles_between_project_modules():
    assert import_cycles() == []


STAGE_LINES = 60  # a stage is an adapter: read params, load inputs, call the library, write outputs, log


def test_every_stage_module_is_a_thin_adapter():
    """Each `python -m stages.<name>` module stays short: a stage's protocol lives in `ebm`, its plumbing in
    stages/common, so the experiment reads in the library and the stage only wires it to files."""
    long = {p.name: n for p in sorted((ROOT / "stages").glob("*.py"))
            if p.name != "__init__.py" and (n := len(p.read_text().splitlines())) > STAGE_LINES}
    assert not long, f"stage modules over {STAGE_LINES} lines: {long}"
