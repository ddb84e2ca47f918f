"""Test workspaces: a config file and what it points at, for the real CLI and pipeline.

`make_workspace` gives Maildir intake and outbox and SQLite; `imap_workspace` reads the IMAP
test server instead (and sends through the SMTP test server when given one). A `Workspace`
runs the real `mailproc` command, puts mail into its Maildir inbox and reads what it sent.
"""

from __future__ import annotations

import itertools
import json
import mailbox
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailproc.app import App, open_app
from mailproc.config import load
from mailproc.store.models import Issue
from mailproc.triage.apply import Actor, apply_commands
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import parse_cli
from tests.support.imapserver import ImapTestServer
from tests.support.mail import ADMIN, GROUP
from tests.support.smtpserver import SmtpTestServer

SECRET = "test-secret-0123456789abcdef-xyz"
_cli_calls = itertools.count()


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


@dataclass(frozen=True)
class Workspace:
    """A config file and, under `root`, the inbox, outbox and database it names."""

    root: Path
    config: Path

    def app(self) -> App:
        """The application on this config, in-process; the caller disposes of its engine."""
        return open_app(load(self.config))

    def command(self, *args: str) -> list[str]:
        """The argv of the real `mailproc` command on this config."""
        return [sys.executable, "-m", "mailproc", "--config", str(self.config), *args]

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real `mailproc` command on this config in a child process and wait for it."""
        proc = run_mailproc("--config", str(self.config), *args, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"mailproc {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    def start(self, *args: str, **popen: Any) -> subprocess.Popen[str]:
        """Start the real `mailproc` command in a child process (text mode) and return at once."""
        return subprocess.Popen(self.command(*args), env=_env(), text=True, **popen)

    def receive(self, *raws: bytes) -> None:
        """Put messages into the Maildir inbox, as a mail server delivers them."""
        inbox = mailbox.Maildir(self.root / "inbox", create=True)
        for raw in raws:
            inbox.add(raw)

    def sent(self) -> list[bytes]:
        """Every message the Maildir transport wrote to the outbox."""
        folder = self.root / "outbox" / "new"
        return [path.read_bytes() for path in sorted(folder.iterdir())] if folder.is_dir() else []

    def rows(self, model: type[Any]) -> int:
        """How many rows of `model` (an ORM class) the database holds."""
        app = self.app()
        try:
            with app.factory() as session:
                return int(session.scalar(select(func.count()).select_from(model)) or 0)
        finally:
            app.engine.dispose()

    def year(self) -> int:
        """The current year by the application's clock (references carry it)."""
        app = self.app()
        try:
            return app.clock().year
        finally:
            app.engine.dispose()


def run_mailproc(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `mailproc` command in a child process and wait for it; it finds a config
    only where `args` or `cwd` name one (MAILPROC_CONFIG is cleared)."""
    command = [sys.executable, "-m", "mailproc", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=_env(), cwd=cwd, timeout=timeout, check=False
    )


def _env() -> dict[str, str]:
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    env.pop("MAILPROC_CONFIG", None)
    return env


def make_workspace(root: Path, db_url: str | None = None, **overrides: dict[str, Any]) -> Workspace:
    """A config with Maildir intake and outbox and SQLite unless overridden per table
    ("intake__imap" names the table [intake.imap]; values are merged into the defaults)."""
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


def intake_tables(
    server: ImapTestServer, user: str | None = None, **imap: object
) -> dict[str, dict[str, object]]:
    """`make_workspace` overrides for IMAP intake from `server` (as `user`, default its main
    account); the password is read from MAILPROC_IMAP_PASSWORD, which tests/conftest.py sets."""
    settings = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": user or server.username,
    }
    return {"intake": {"source": "imap"}, "intake__imap": {**settings, **imap}}


def imap_workspace(
    root: Path,
    imap: ImapTestServer,
    db_url: str | None = None,
    smtp: SmtpTestServer | None = None,
    **overrides: dict[str, Any],
) -> Workspace:
    """A workspace whose intake reads the IMAP test server and, given `smtp`, whose outbound
    mail goes to the SMTP test server; `overrides` are merged as in `make_workspace`."""
    tables: dict[str, dict[str, Any]] = intake_tables(imap, batch_size=50)
    if smtp is not None:
        tables["outbound"] = {"transport": "smtp"}
        tables["outbound__smtp"] = {"host": smtp.host, "port": smtp.port, "security": "none", "timeout": 10}
    for name, values in overrides.items():
        tables[name] = {**tables.get(name, {}), **values}
    return make_workspace(root, db_url, **tables)


def triage(app: App, reference: str, *commands: str, admin: str = ADMIN) -> None:
    """Apply commands ("ACCEPT prescribing", ...) to an issue in one transaction, read as
    `mailproc triage` reads its words, at the time of `app`'s clock."""
    with app.factory() as session, session.begin():
        issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
        parsed = [parse_cli(command.split(), vocabulary(app), app.today()) for command in commands]
        # Unique per call, as the CLI's is: the Message-IDs of the emails it causes derive from it.
        actor = Actor(admin, f"cli:test-{next(_cli_calls)}")
        apply_commands(app, session, issue, parsed, actor)
