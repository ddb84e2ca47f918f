"""Test workspaces: a config file and what it points at, for the real CLI and pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailproc.app import App, open_app
from mailproc.config import load

SECRET = "test-secret-0123456789abcdef-xyz"
ADMIN = "admin@example.nhs.scot"
GROUP = "interface.group@example.nhs.scot"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def toml_text(tables: dict[str, dict[str, Any]]) -> str:
    """A TOML document from {"table.name": {key: value}} (arrays of tables as lists of dicts)."""
    out = []
    for name, body in tables.items():
        if isinstance(body, list):
            for entry in body:
                out.append(f"[[{name}]]")
                out += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
            continue
        out.append(f"[{name}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
    return "\n".join(out) + "\n"


@dataclass
class Workspace:
    root: Path
    config: Path

    def app(self) -> App:
        return open_app(load(self.config))

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real `mailproc` command in a child process."""
        env = {**os.environ, "MAILPROC_SECRET": SECRET}
        proc = subprocess.run(
            [sys.executable, "-m", "mailproc", "--config", str(self.config), *args],
            capture_output=True, text=True, env=env, timeout=timeout, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"mailproc {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc


def make_workspace(root: Path, db_url: str | None = None, **overrides: dict[str, Any]) -> Workspace:
    """A config with Maildir intake and outbox and SQLite unless overridden per table."""
    tables: dict[str, Any] = {
        "group": {"name": "NHS Test Interface Group", "address": GROUP, "reference_prefix": "IFG"},
        "database": {"url": db_url or f"sqlite:///{root / 'mailproc.db'}"},
        "intake": {"source": "maildir", "maildir": str(root / "inbox")},
        "outbound": {"transport": "maildir", "maildir": str(root / "outbox"), "backoff_seconds": 0},
        "triage": {"admins": [ADMIN], "secret_env": "MAILPROC_SECRET"},
        "members": [{"name": "Dr A Example", "role": "Chair (GP)", "email": "a.example@example.nhs.scot"}],
        "lists.gp-subgroup": {"name": "GP Sub-group", "addresses": ["gp-subgroup@example.nhs.scot"]},
        "lists.cmg": {
            "name": "Clinical Management Group",
            "addresses": ["cmg@example.nhs.scot", "cmg2@example.nhs.scot"],
        },
        "distribution": {"outcomes": ["gp-subgroup", "cmg"]},
        "groups.prescribing": {
            "name": "Prescribing Operational Group",
            "contact": ["prescribing.lead@example.nhs.scot"],
        },
        "escalation": {"name": "Clinical Governance Committee", "contact": ["governance@example.nhs.scot"]},
    }
    for name, values in overrides.items():
        key = name.replace("__", ".")
        tables[key] = {**tables.get(key, {}), **values}
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.toml"
    config.write_text(toml_text(tables), encoding="utf-8")
    return Workspace(root, config)
