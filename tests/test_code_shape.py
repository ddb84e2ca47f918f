"""The shape the design asks of the code: small modules, functions that fit on a screen, the
parts visible in `ls mailproc/`, and no module named after a standard-library one."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailproc"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
PARTS = {"config", "intake", "triage", "outbound", "store", "privacy", "governance", "cli"}
TOP_LEVEL = {"__init__.py", "__main__.py", "app.py", "errors.py", "vocabulary.py", "timefmt.py"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_the_parts_are_packages_and_little_stays_at_the_top() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages >= PARTS
    assert {p.name for p in PACKAGE.glob("*.py")} <= TOP_LEVEL


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_50_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = length
    assert long == {}


def test_no_module_is_named_after_a_standard_library_one() -> None:
    clashes = [str(p.relative_to(PACKAGE)) for p in _modules() if p.stem in sys.stdlib_module_names]
    assert clashes == []
