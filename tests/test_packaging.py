"""The package as installed: its licence and its declared dependencies (issue 10)."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cstracker"


def _imported_top_level_names() -> dict[str, list[str]]:
    """Every top-level module name an `import` in cstracker/ names -> the files that import it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(path.relative_to(ROOT).as_posix())
    return found


def _install_requires() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = parser["options"]["install_requires"].split("\n")
    return {_normalise(re.split(r"[<>=!~;\[ ]", line.strip())[0]) for line in lines if line.strip()}


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_every_third_party_import_in_the_package_is_declared_in_install_requires():
    declared = _install_requires()
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for name, files in _imported_top_level_names().items():
        if name == "cstracker" or name in sys.stdlib_module_names:
            continue
        provided_by = {_normalise(d) for d in distributions.get(name, [name])}
        if not provided_by & declared:
            undeclared[name] = files
    assert undeclared == {}, f"imported but not in setup.cfg install_requires: {undeclared}"


def test_every_declared_dependency_is_imported_somewhere():
    imported = set(_imported_top_level_names())
    distributions = importlib.metadata.packages_distributions()
    by_distribution: dict[str, set[str]] = {}
    for module, dists in distributions.items():
        for dist in dists:
            by_distribution.setdefault(_normalise(dist), set()).add(module)
    unused = sorted(d for d in _install_requires() if not by_distribution.get(d, set()) & imported)
    assert unused == [], f"declared in install_requires but never imported by cstracker: {unused}"


def test_the_licence_is_the_mit_licence_setup_cfg_names():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    assert parser["metadata"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) \d{4} cstracker contributors", text)
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_no_test_imports_or_runs_code_from_scripts():
    """Helpers the tests share with scripts/ live in the package or in tests/ (scripts import them there)."""
    script_modules = {p.stem for p in (ROOT / "scripts").glob("*.py")}
    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == Path(__file__).name:
            continue  # this test spells the patterns it looks for
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in script_modules]
        # a module loaded by file name, or scripts/ put on the import path
        if re.search(r"spec_from_file_location|run_path|sys\.path\.(insert|append)\([^)]*scripts", text):
            offenders.append(f"{path.name}: loads code from a file path or puts scripts/ on sys.path")
    assert offenders == []
