"""Source keys name the mailbox: a message of another mailbox is never taken as logged (issue 8).

A mailbox moved to another server or account starts again at small UIDs, and its
UIDVALIDITY may coincide with the old one; two Maildirs may hold files of the same name.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from mailproc.config import ImapSettings
from mailproc.intake.sources.base import KEY_MAX
from mailproc.intake.sources.imap import ImapSource
from mailproc.intake.sources.maildir import MaildirSource
from tests.support.cursors import MemoryCursor
from tests.support.imapserver import ImapTestServer
from tests.support.mail import varied_message
from tests.support.workspace import intake_tables, make_workspace

UIDVALIDITY = 1_700_000_001


def accounts(server: ImapTestServer, *users: str) -> None:
    """Fresh accounts whose INBOXes share one UIDVALIDITY (and so, once filled, their UIDs)."""
    if server.kind != "dovecot":
        pytest.skip("setting UIDVALIDITY needs Dovecot")
    for user in users:
        server.set_uidvalidity(user, UIDVALIDITY)


def uids(server: ImapTestServer, user: str) -> tuple[int, list[int]]:
    with server.client(user) as client:
        info = client.select_folder("INBOX", readonly=True)
        return int(info[b"UIDVALIDITY"]), sorted(client.search("ALL"))


def test_another_account_with_the_same_uidvalidity_is_logged(
    tmp_path: Path, imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPROC_IMAP_PASSWORD", imap_server.password)
    old, new = f"old-{uuid.uuid4().hex[:8]}", f"new-{uuid.uuid4().hex[:8]}"
    accounts(imap_server, old, new)
    imap_server.deliver([varied_message(1), varied_message(2)], user=old)
    imap_server.deliver([varied_message(3), varied_message(4)], user=new)
    assert uids(imap_server, old) == uids(imap_server, new)  # the keys would coincide
    root = tmp_path / "ws"
    ws = make_workspace(root, **intake_tables(imap_server, old))
    ws.cli("db", "upgrade")
    assert ws.cli("poll").stdout.startswith("2 new issue(s)")
    make_workspace(root, **intake_tables(imap_server, new))  # same database, the other mailbox
    assert ws.cli("poll").stdout.startswith("2 new issue(s)")


def test_another_server_with_the_same_uidvalidity_is_logged(
    tmp_path: Path, imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPROC_IMAP_PASSWORD", imap_server.password)
    user = f"moved-{uuid.uuid4().hex[:8]}"
    accounts(imap_server, user)
    with ImapTestServer("dovecot") as other:
        accounts(other, user)
        imap_server.deliver([varied_message(5), varied_message(6)], user=user)
        other.deliver([varied_message(7), varied_message(8)], user=user)
        assert uids(imap_server, user) == uids(other, user)
        root = tmp_path / "ws"
        ws = make_workspace(root, **intake_tables(imap_server, user))
        ws.cli("db", "upgrade")
        assert ws.cli("poll").stdout.startswith("2 new issue(s)")
        make_workspace(root, **intake_tables(other, user))
        assert ws.cli("poll").stdout.startswith("2 new issue(s)")


def fill(maildir: Path, *raws: bytes) -> None:
    """Files named as another Maildir's may well be (the names say time, process, host)."""
    (maildir / "new").mkdir(parents=True)
    for n, raw in enumerate(raws):
        (maildir / "new" / f"1700000000.M{n}P100.host").write_bytes(raw)


def test_another_maildir_with_the_same_file_names_is_logged(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    fill(root / "old", varied_message(1), varied_message(2))
    fill(root / "new", varied_message(3), varied_message(4))
    ws = make_workspace(root, intake={"maildir": str(root / "old")})
    assert ws.cli("poll").stdout.startswith("2 new issue(s)")
    make_workspace(root, intake={"maildir": str(root / "new")})
    assert ws.cli("poll").stdout.startswith("2 new issue(s)")


def test_long_maildir_paths_and_names_keep_keys_short_and_distinct(tmp_path: Path) -> None:
    name = f"1700000000.M1P100.{'h' * 200}"
    roots = [tmp_path / ("a" * 200) / ("b" * 200), tmp_path / ("a" * 200) / ("c" * 200)]
    keys = []
    for root in roots:
        source = MaildirSource(root, 10**6)
        source.open()
        (root / "new" / name).write_bytes(varied_message(1))
        (msg,) = source.pending()
        assert len(msg.key) <= KEY_MAX
        assert msg.key == next(MaildirSource(root, 10**6).pending()).key  # stable
        source.done(msg.key)  # and still understood
        assert (root / ".Processed" / "cur" / f"{name}:2,").exists()
        keys.append(msg.key)
    assert keys[0] != keys[1]


def test_long_imap_account_names_keep_keys_short_and_distinct() -> None:
    base = ImapSettings(
        host="imap.example.nhs.scot", port=993, security="ssl", username="u" * 300, auth="password",
        password="x", token_command="", folder="INBOX/" + "f" * 200, processed_folder="Processed",
        quarantine_folder="Quarantine", batch_size=10, idle=True, poll_interval=60, timeout=10,
    )  # fmt: skip
    one = ImapSource(base, MemoryCursor(), 10**6)
    two = ImapSource(replace(base, username="u" * 299 + "v"), MemoryCursor(), 10**6)
    longest = f"{one.name}:{2**32 - 1}:{2**32 - 1}"  # the name, then UIDVALIDITY and UID
    assert len(longest) <= KEY_MAX
    assert one.name != two.name
    assert one.name == ImapSource(base, MemoryCursor(), 10**6).name
