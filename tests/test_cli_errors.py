"""The CLI's one error boundary, usage errors, and progress injected into the core as a callback."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.cli.progress import LOG_EVERY_SECONDS, Reporter
from mailproc.governance.register import build_register
from mailproc.intake import runner
from mailproc.store.models import Issue
from tests.support.mail import varied_message
from tests.support.workspace import make_workspace, run_mailproc, triage


def test_an_unexpected_error_is_one_line_and_the_traceback_comes_with_v(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.receive(varied_message(1))
    ws.cli("poll")
    # A row no mailproc wrote: a date that is not a date (a corrupt file is a plain error now).
    with sqlite3.connect(ws.root / "mailproc.db") as conn:
        conn.execute("UPDATE issues SET created_at = 'not a date'")
    plain = run_mailproc("--config", str(ws.config), "issues", "list")
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr
    lines = plain.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailproc: unexpected error: ValueError")
    assert "-v" in lines[0]
    verbose = run_mailproc("-v", "--config", str(ws.config), "issues", "list")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr and "mailproc: unexpected error: ValueError" in verbose.stderr


def test_config_naming_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_mailproc("--config", str(tmp_path), "issues", "list")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{tmp_path} (--config) is a folder" in proc.stderr
    assert str(tmp_path / "config.toml") in proc.stderr  # what to give instead


def test_missing_config_says_how_to_make_one(tmp_path: Path) -> None:
    proc = run_mailproc("poll", cwd=tmp_path)
    assert proc.returncode == 2
    assert "config.toml" in proc.stderr and "mailproc init" in proc.stderr


def test_a_misspelt_triage_command_is_a_usage_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    proc = run_mailproc("--config", str(ws.config), "triage", "IFG-2026-0001", "ACCPET", "prescribing")
    assert proc.returncode == 2
    assert "mailproc: error: triage IFG-2026-0001:" in proc.stderr and "ACCPET" in proc.stderr


def test_core_modules_do_not_import_click() -> None:
    code = (
        "import sys, mailproc.intake.runner, mailproc.intake.passes, mailproc.governance.register;"
        "print(sorted(m for m in sys.modules if m == 'click' or m.startswith('mailproc.cli')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_core_work_reports_progress_through_the_callback(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.receive(*(varied_message(i) for i in range(3)))
    app = ws.app()
    try:
        polled: list[tuple[int, int]] = []
        runner.poll_once(app, on_progress=lambda done, total: polled.append((done, total)))
        assert polled == [(1, 3), (2, 3), (3, 3)]
        with app.factory() as session:  # the register shows published issues only
            for ref in session.scalars(select(Issue.reference)):
                triage(app, ref, f"PUBLISH Issue {ref}")
        built: list[tuple[int, int]] = []
        build_register(app, tmp_path / "site", on_progress=lambda done, total: built.append((done, total)))
        assert built == [(1, 3), (2, 3), (3, 3)]
    finally:
        app.engine.dispose()


def test_without_a_terminal_progress_is_a_log_line_every_30_seconds(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    reporter = Reporter("Processing mail", interactive=False, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="mailproc.cli.progress")
    for step, at in enumerate([1.0, 10.0, LOG_EVERY_SECONDS + 1, LOG_EVERY_SECONDS + 5], start=1):
        now[0] = at
        reporter(step, 100)
    reporter.close()
    assert [r.getMessage() for r in caplog.records] == ["Processing mail: 3 of 100 (0.1/s)"]
