"""The test suite's own rules: shared helpers live in tests/support/, no module imports a test
file, and a free port is found in one place."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(TESTS)}:{getattr(node, 'lineno', 0)}"


def _imported(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node, "." * node.level + (node.module or "")


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def test_helpers_come_from_tests_support_and_no_module_imports_a_test_file() -> None:
    wrong = []
    for path in _modules():
        # conftest.py gathers the fixture modules beside it; everything else uses tests.support.
        allowed = ("tests.support.", "tests.conftest_") if path.name == "conftest.py" else ("tests.support.",)
        for node, name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            if (name.startswith("tests.") or name.startswith(".")) and not name.startswith(allowed):
                wrong.append(f"{_where(path, node)} imports {name}")
    assert wrong == []


def test_no_helper_modules_outside_tests_support() -> None:
    loose = [
        p.name
        for p in TESTS.glob("*.py")
        if not p.name.startswith(("test_", "conftest")) and p.name != "__init__.py"
    ]
    assert loose == []


def test_one_free_port() -> None:
    """Binding port 0 is how a free port is found; it happens in tests/support/net.py only."""
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.FunctionDef) and node.name == "free_port"
            binds = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "bind"
                and any(isinstance(a, ast.Tuple) and _is_zero(a.elts[-1]) for a in node.args)
            )
            if named or binds:
                found.append(_where(path, node).rsplit(":", 1)[0])
    assert found == ["support/net.py", "support/net.py"]  # the function, and its bind
