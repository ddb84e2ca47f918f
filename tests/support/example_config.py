"""A workspace on the shipped config.example.toml, so tests show what a board gets as shipped."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import Workspace, toml_text

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """TOML data as `toml_text` takes it: {"a.b": {scalars}, "members": [{...}]}."""
    tables: dict[str, Any] = {}
    body = {k: v for k, v in data.items() if not isinstance(v, dict) and not _array_of_tables(v)}
    if prefix and body:
        tables[prefix] = body
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            tables.update(_flatten(value, name))
        elif _array_of_tables(value):
            tables[name] = value
    return tables


def _array_of_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def example_workspace(root: Path, smtp: SmtpTestServer | None = None, **edits: Any) -> Workspace:
    """config.example.toml as shipped, in `root` (its relative paths land there), with `edits`."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    if smtp is not None:
        data["outbound"].update(transport="smtp", backoff_seconds=0)
        data["outbound"]["smtp"].update(host=smtp.host, port=smtp.port, security="none", timeout=10)
    for path, value in edits.items():
        *parents, last = path.split("__")
        table: Any = data
        for part in parents:
            table = table[int(part)] if isinstance(table, list) else table[part]
        table[last] = value
    root.mkdir(parents=True)
    (root / "var").mkdir()
    config = root / "config.toml"
    config.write_text(toml_text(_flatten(data)), encoding="utf-8")
    ws = Workspace(root, config)
    ws.cli("db", "upgrade")
    return ws
