"""The package's layers (docs/internals.md): no module imports a layer above its own.

Checked on the source, every import statement (also the ones inside functions), so a lazy import
cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cstracker"

#: subpackage (or top-level module) -> its layer; a module may import its own layer and those below.
LAYERS = {
    "version": 0,
    "core": 1,
    "xlsx": 2,
    "tracker": 3,
    "forms": 4,
    "legacy": 4,
    "report": 4,
    "synthetic": 5,
    "demo": 5,
    "templates": 5,
    "boundary": 5,
    "commands": 6,
    "cli": 6,
    "__main__": 6,
    "__init__": 7,
}
#: layers that sit side by side: neither imports the other
SIBLINGS = {"forms", "legacy", "report"}


def unit(module: str) -> str:
    """The subpackage or top-level module a dotted name inside cstracker belongs to."""
    parts = module.split(".")
    assert parts[0] == "cstracker"
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cstracker"):
            if node.module == "cstracker":
                found += [(node.lineno, f"cstracker.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("cstracker")]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "<relative>"))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    units = {unit("cstracker." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)) for p in MODULES}
    assert units <= set(LAYERS), f"modules outside every layer: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    here = unit("cstracker." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    wrong = []
    for line, target in imports(path):
        if target == "<relative>":
            wrong.append(f"line {line}: a relative import (write the absolute path)")
            continue
        there = unit(target)
        if LAYERS[there] > LAYERS[here]:
            wrong.append(f"line {line}: {target} (layer {there}) is above {here}")
        elif there != here and there in SIBLINGS and here in SIBLINGS:
            wrong.append(f"line {line}: {target}: {here} and {there} sit side by side")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from cstracker.report.tables import x\n    from cstracker import demo\n")
    assert [t for _, t in imports(bad)] == ["cstracker.report.tables", "cstracker.demo"]
    assert LAYERS[unit("cstracker.report.tables")] > LAYERS["core"]
