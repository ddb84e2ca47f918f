"""An unreadable, corrupt or read-only database is one clear `mailproc: error:` line and exit
code 1, never a traceback (issue 11, "Also"); the mail waiting in the inbox is not touched.

Tests may run as root, where a chmod'ed file stays writable: read-only is made with SQLite's
own URI (`mode=ro`), and the chmod case runs only for other users.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.mail import varied_message
from tests.support.workspace import Workspace, make_workspace


def _one_error_line(proc_stderr: str) -> str:
    assert "Traceback" not in proc_stderr
    lines = [line for line in proc_stderr.strip().splitlines() if " INFO " not in line]
    assert len(lines) == 1, proc_stderr
    assert lines[0].startswith("mailproc: error: ")
    return lines[0]


def _with_one_issue(root: Path) -> Workspace:
    ws = make_workspace(root, db_url=f"sqlite:///{root / 'mailproc.db'}")
    ws.receive(varied_message(1))
    ws.cli("poll")
    return ws


def test_a_corrupt_database_file_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws.root / "mailproc.db").write_bytes(b"this is not a SQLite database, a stray file of that name\n" * 20)
    for command in (("issues", "list"), ("poll",)):
        proc = ws.cli(*command, check=False)
        assert proc.returncode == 1
        assert "file is not a database" in _one_error_line(proc.stderr)


def test_a_database_path_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", db_url=f"sqlite:///{tmp_path / 'folder'}")
    (tmp_path / "folder").mkdir()
    proc = ws.cli("issues", "list", check=False)
    assert proc.returncode == 1
    assert "unable to open database file" in _one_error_line(proc.stderr)


def test_a_read_only_database_stops_the_poll_with_a_clear_error(tmp_path: Path) -> None:
    writable = _with_one_issue(tmp_path / "rw")
    url = f"sqlite:///file:{writable.root / 'mailproc.db'}?mode=ro&uri=true"
    ws = make_workspace(tmp_path / "ro", db_url=url)
    ws.receive(varied_message(2))
    assert "IFG-" in ws.cli("issues", "list").stdout  # reading still works
    proc = ws.cli("poll", check=False)
    assert proc.returncode == 1
    assert "readonly database" in _one_error_line(proc.stderr)
    assert len(list((ws.root / "inbox" / "new").iterdir())) == 1  # waits, not quarantined
    held = ws.cli("issues", "hold", _first_reference(ws), check=False)
    assert held.returncode == 1
    assert "readonly database" in _one_error_line(held.stderr)


def _first_reference(ws: Workspace) -> str:
    line = ws.cli("issues", "list").stdout.splitlines()[0]
    return next(word for word in line.split() if word.startswith("IFG-"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_chmod_read_only_database_is_a_clear_error(tmp_path: Path) -> None:
    ws = _with_one_issue(tmp_path / "ws")
    ws.receive(varied_message(2))
    for path in (ws.root / "mailproc.db", ws.root):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        proc = ws.cli("poll", check=False)
    finally:
        ws.root.chmod(0o755)
    assert proc.returncode == 1
    _one_error_line(proc.stderr)
