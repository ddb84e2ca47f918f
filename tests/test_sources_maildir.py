"""MaildirSource on a real directory tree."""

from __future__ import annotations

import logging
import mailbox
import os
from pathlib import Path

import pytest

from mailproc.config import IntakeSettings
from mailproc.errors import SourceError
from mailproc.intake.sources.factory import open_source
from mailproc.intake.sources.maildir import MaildirSource
from tests.support.cursors import MemoryCursor

LIMIT = 4096


def message(n: int, body: bytes = b"") -> bytes:
    # Mixed line endings on purpose: the source must hand over the bytes exactly as stored.
    return (
        f"From: gp{n}@example.nhs.scot\r\nSubject: Referral {n}\nMessage-ID: <m{n}@example.test>\r\n\r\n"
    ).encode() + (body or f"Body {n}\r\n".encode())


def drop(root: Path, sub: str, name: str, raw: bytes, mtime: float) -> Path:
    path = root / sub / name
    path.write_bytes(raw)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def source(tmp_path: Path) -> MaildirSource:
    src = MaildirSource(tmp_path / "inbox", LIMIT)
    src.open()
    return src


def test_open_creates_maildir_plus_layout(tmp_path: Path) -> None:
    root = tmp_path / "var" / "inbox"  # parents are created too
    MaildirSource(root, LIMIT).open()
    MaildirSource(root, LIMIT).open()  # and again: nothing to do, no error
    for folder in (root, root / ".Processed", root / ".Quarantine"):
        assert all((folder / sub).is_dir() for sub in ("new", "cur", "tmp"))
    assert sorted(mailbox.Maildir(root, create=False).list_folders()) == ["Processed", "Quarantine"]


def test_open_completes_a_bare_existing_directory(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    MaildirSource(root, LIMIT).open()
    assert (root / "new").is_dir() and (root / ".Quarantine" / "cur").is_dir()


def test_pending_oldest_first_exact_bytes(source: MaildirSource) -> None:
    root = source.root
    drop(root, "new", "300.c.host", message(3), 3000)
    drop(root, "cur", "100.a.host:2,S", message(1), 1000)
    drop(root, "new", "200.b.host", message(2), 2000)
    drop(root, "new", "150.z.host", message(4), 2000)  # same mtime as 200: name decides
    drop(root, "new", ".hidden", b"not mail", 10)
    got = list(source.pending())
    assert [m.key for m in got] == [
        f"maildir:{root.resolve()}:100.a.host",
        f"maildir:{root.resolve()}:150.z.host",
        f"maildir:{root.resolve()}:200.b.host",
        f"maildir:{root.resolve()}:300.c.host",
    ]
    assert [m.raw for m in got] == [message(1), message(4), message(2), message(3)]
    assert all(m.size == len(m.raw) and not m.oversize for m in got)
    assert source.count_pending() == 4


def test_done_and_quarantine_move_atomically_and_idempotently(
    source: MaildirSource, caplog: pytest.LogCaptureFixture
) -> None:
    root = source.root
    drop(root, "new", "1.a.host", message(1), 1000)
    drop(root, "cur", "2.b.host:2,FS", message(2), 2000)
    first, second = source.pending()
    source.done(first.key)
    with caplog.at_level(logging.WARNING):
        source.quarantine(second.key, "no From header")
    source.done(first.key)  # already gone: no error
    source.quarantine(second.key, "again")
    assert source.count_pending() == 0
    # A file from new/ gains the info part; one from cur/ keeps its flags.
    assert (root / ".Processed" / "cur" / "1.a.host:2,").read_bytes() == message(1)
    assert (root / ".Quarantine" / "cur" / "2.b.host:2,FS").read_bytes() == message(2)
    assert "no From header" in caplog.text


def test_done_finds_a_message_renamed_since_pending(source: MaildirSource) -> None:
    root = source.root
    drop(root, "new", "1.a.host", message(1), 1000)
    (msg,) = source.pending()
    # A mail client read it meanwhile: new/ → cur/ with a flag.
    os.rename(root / "new" / "1.a.host", root / "cur" / "1.a.host:2,S")
    source.done(msg.key)
    assert (root / ".Processed" / "cur" / "1.a.host:2,S").exists()


def test_oversize_message_yields_header_only(source: MaildirSource) -> None:
    big = message(1, body=b"z" * (LIMIT * 2))
    drop(source.root, "new", "1.a.host", big, 1000)
    (msg,) = source.pending()
    assert msg.oversize and msg.size == len(big)
    assert msg.raw == big[: big.index(b"\r\n\r\n") + 4]


def test_bad_keys_are_refused(source: MaildirSource) -> None:
    name = source.name
    bad_keys = (
        "imap:INBOX:1:2",
        "maildir:",
        "maildir:1.a.host",
        f"{name}:",
        f"{name}:../x",
        f"{name}:.hidden",
    )
    for bad in (*bad_keys, f"maildir:{source.root.parent / 'other'}:1.a.host"):
        with pytest.raises(SourceError):
            source.done(bad)


def test_missing_target_folder_is_an_error(source: MaildirSource) -> None:
    drop(source.root, "new", "1.a.host", message(1), 1000)
    (msg,) = source.pending()
    for sub in ("new", "cur", "tmp"):
        (source.root / ".Processed" / sub).rmdir()
    with pytest.raises(SourceError, match="open"):
        source.done(msg.key)
    assert source.count_pending() == 1  # still waiting, not lost


def test_wait_sleeps_and_reports_no_push(source: MaildirSource) -> None:
    assert source.wait(0.01) is False


def test_factory_opens_maildir_source(tmp_path: Path) -> None:
    intake = IntakeSettings(
        source="maildir", maildir=tmp_path / "in", max_message_bytes=LIMIT, max_attempts=3, imap=None
    )
    src = open_source(intake, MemoryCursor())
    assert isinstance(src, MaildirSource) and (tmp_path / "in" / ".Processed" / "new").is_dir()
    assert src.name == f"maildir:{(tmp_path / 'in').resolve()}"


def test_factory_without_imap_table_is_an_error(tmp_path: Path) -> None:
    intake = IntakeSettings(
        source="imap", maildir=tmp_path, max_message_bytes=LIMIT, max_attempts=3, imap=None
    )
    with pytest.raises(SourceError, match=r"\[intake.imap\]"):
        open_source(intake, MemoryCursor())
