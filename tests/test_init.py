"""A newcomer's path: `mailproc init`, then the embedded defaults (SQLite + Maildir) just work."""

from __future__ import annotations

import mailbox
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.mail import varied_message
from tests.support.workspace import run_mailproc

ROOT = Path(__file__).parent.parent


def test_init_writes_a_commented_config_and_folders_and_says_what_next(tmp_path: Path) -> None:
    made = run_mailproc("init", "group", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    home = tmp_path / "group"
    config = home / "config.toml"
    assert config.read_text(encoding="utf-8") == (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for folder in ("var/inbox/new", "var/inbox/cur", "var/outbox/new"):
        assert (home / folder).is_dir(), folder
    assert "Edit group/config.toml" in made.stdout and "MAILPROC_SECRET" in made.stdout
    assert "mailproc check" in made.stdout

    # The example's defaults on a fresh machine: the first poll creates the database itself.
    mailbox.Maildir(home / "var" / "inbox").add(varied_message(1))
    polled = run_mailproc("poll", cwd=home)
    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.startswith("1 new issue(s)")
    assert (home / "var" / "mailproc.db").is_file()
    assert "awaiting-triage" in run_mailproc("issues", "list", cwd=home).stdout


def test_init_refuses_to_overwrite_a_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# mine\n", encoding="utf-8")
    again = run_mailproc("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "# mine\n"


def test_init_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    proc = run_mailproc("init", "notes.txt", cwd=tmp_path)
    assert proc.returncode == 2 and "is a file" in proc.stderr


@pytest.mark.slow
def test_the_wheel_ships_the_example_config_and_templates(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("mailproc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mailproc/config.example.toml" in names
    assert "mailproc/templates/email/acknowledgement/body.txt.j2" in names
