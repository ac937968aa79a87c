"""How the package's modules depend on each other, and the one way a file is written (issue 10)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cstracker"


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    out = {}
    for path in package.rglob("*.py"):
        name = ".".join((package.name, *path.relative_to(package).with_suffix("").parts))
        out[name.removesuffix(".__init__")] = path
    return out


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere (also inside functions and under TYPE_CHECKING)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_only_the_one_atomic_write_replaces_a_file():
    """Every file cstracker writes goes through safety.atomic_write (outputs.write_output for outputs):
    no other module renames a temporary file over a real one, nor moves a file (shutil.move copies it in
    place when the target is on another file system: cut short, a torn file)."""
    offenders = []
    for module, path in _modules().items():
        if module.endswith(".safety"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("replace", "rename", "move")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("os", "shutil")
            ):
                offenders.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.func.value.id}.{node.func.attr}"
                )
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "mkstemp"
                and not module.endswith(".boundary")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} tempfile.mkstemp")
    assert offenders == []


def test_one_writer_makes_every_lists_sheet():
    """The tracker's Lists sheet and the form's copy come from one function (tracker/create.py: write_lists_sheet)."""
    writers = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_worksheet"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "SHEET_LISTS"
            ):
                writers.append(f"{module}:{node.lineno}")
    assert len(writers) == 1 and writers[0].startswith("cstracker.tracker.create:"), writers


def test_imports_go_one_way_between_modules():
    """No module imports a module that imports it back, directly or through others: not between
    packages, not inside one (tracker/: the Tracker's parts, validate, audit; legacy/: the importer
    and its rejects file), and not through an import inside a function or under TYPE_CHECKING."""
    assert cycles(import_graph()) == []


def test_the_cycle_check_counts_imports_inside_functions_and_for_type_checking(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.c import C\n"
    )
    (package / "sub" / "c.py").write_text("import pkg.sub.a\n")
    (package / "sub" / "d.py").write_text("from pkg.sub import a\n")  # imports the cycle, not in it
    graph = import_graph(package)
    assert graph["pkg.sub.a"] == {"pkg.sub", "pkg.sub.b"}
    assert cycles(graph) == [{"pkg.sub.a", "pkg.sub.b", "pkg.sub.c"}]
