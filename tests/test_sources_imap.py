"""ImapSource against a real IMAP server on loopback (Dovecot, or pymap as the fallback)."""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailproc.config import IntakeSettings
from mailproc.errors import SourceError
from mailproc.intake.sources.factory import open_source
from mailproc.intake.sources.imap import ImapSource
from tests.support.cursors import MemoryCursor
from tests.support.imapserver import ImapTestServer
from tests.support.imapsource import message, opened, settings
from tests.support.net import free_port


def append(server: ImapTestServer, *raws: bytes, folder: str = "INBOX") -> None:
    server.deliver(list(raws), folder)


def counts(server: ImapTestServer, *folders: str) -> tuple[int, ...]:
    """Messages in each folder (one login: they are slow on pymap)."""
    with server.client() as client:
        return tuple(int(client.folder_status(f, [b"MESSAGES"])[b"MESSAGES"]) for f in folders)


def test_batches_yield_exact_bytes_and_done_moves_everything(imap: ImapTestServer) -> None:
    raws = [message(n) for n in range(17)]
    append(imap, *raws)
    cursor = MemoryCursor()
    with opened(imap, cursor) as source:
        assert source.count_pending() == 17
        seen = []
        for msg in source.pending():
            seen.append(msg)
            source.done(msg.key)
        assert source.count_pending() == 0
    assert [m.raw for m in seen] == raws  # oldest first, byte for byte
    uids = [int(m.key.rsplit(":", 1)[1]) for m in seen]
    assert uids == sorted(uids) and not any(m.oversize for m in seen)
    assert all(m.size == len(m.raw) for m in seen)
    # One cursor save at open, then one per batch: 7 + 7 + 3.
    assert [last for _src, _uv, last in cursor.saves] == [0, uids[6], uids[13], uids[16]]
    assert counts(imap, "Processed", "INBOX") == (17, 0)


def test_open_creates_folders_and_keys_name_folder_and_uidvalidity(imap: ImapTestServer) -> None:
    append(imap, message(1))
    cursor = MemoryCursor()
    with opened(imap, cursor) as source:
        (msg,) = list(source.pending())
    assert source.name == f"imap:{imap.username}@{imap.host}:{imap.port}/INBOX"
    uidvalidity, _last = cursor.data[source.name]
    assert msg.key.startswith(f"{source.name}:{uidvalidity}:")
    with imap.client() as client:
        assert client.folder_exists("Processed") and client.folder_exists("Quarantine")


def test_quarantine_moves_to_quarantine_and_logs_reason(
    imap: ImapTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    append(imap, message(1), message(2), message(3))
    with opened(imap) as source, caplog.at_level(logging.WARNING):
        for i, msg in enumerate(source.pending()):
            if i == 1:
                source.quarantine(msg.key, "unparseable MIME")
            else:
                source.done(msg.key)
    assert counts(imap, "Processed", "Quarantine") == (2, 1)
    assert "unparseable MIME" in caplog.text
    assert "Body of message" not in caplog.text  # bodies are never logged


def test_reading_never_sets_seen(imap: ImapTestServer) -> None:
    append(imap, message(1), message(2))
    with opened(imap) as source:
        assert len(list(source.pending())) == 2
    with imap.client() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert len(flags) == 2
    assert all(b"\\Seen" not in f for f in flags.values())


def test_oversize_message_yields_header_only(imap: ImapTestServer) -> None:
    big = message(2, body=(b"y" * 78 + b"\r\n") * 60)  # ~4.8 kB
    append(imap, message(1), big)
    with opened(imap, max_bytes=2000) as source:
        small_msg, big_msg = list(source.pending())
        source.quarantine(big_msg.key, "too large")
    assert not small_msg.oversize and small_msg.raw == message(1)
    assert big_msg.oversize and big_msg.size == len(big)
    header = big[: big.index(b"\r\n\r\n") + 4]
    assert big_msg.raw == header
    assert counts(imap, "Quarantine") == (1,)


def test_bodies_are_fetched_in_batches_capped_by_bytes(
    imap: ImapTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A 3 MB message among small ones, a 1 MB cap: it is fetched alone, the small ones around
    # it together (one batch of 100 by count), so memory is bounded by bytes, not by count.
    big = message(5, body=(b"z" * 998 + b"\r\n") * 3000)
    raws = [*(message(n) for n in range(1, 5)), big, *(message(n) for n in range(6, 10))]
    append(imap, *raws)
    with (
        caplog.at_level(logging.DEBUG, logger="mailproc.intake.sources.imap"),
        opened(imap, max_bytes=10**7, batch_size=100, fetch_bytes=1_000_000) as source,
    ):
        got = [m.raw for m in source.pending()]
    assert got == raws
    fetches = [r.getMessage() for r in caplog.records if r.getMessage().startswith("FETCH BODY.PEEK[] ")]
    assert [f.split(" of ")[1].split()[0] for f in fetches] == ["4", "1", "4"]


def test_done_is_idempotent(imap: ImapTestServer) -> None:
    append(imap, message(1))
    with opened(imap) as source:
        (msg,) = list(source.pending())
        source.done(msg.key)
        source.done(msg.key)
        source.quarantine(msg.key, "second thoughts")  # already gone: nothing happens
    assert counts(imap, "Processed", "Quarantine") == (1, 0)


def test_keys_from_elsewhere_are_refused(imap: ImapTestServer) -> None:
    append(imap, message(1))
    with opened(imap) as source:
        (msg,) = list(source.pending())
        uidvalidity, uid = msg.key.split(":")[-2:]
        elsewhere = f"imap:{imap.username}@{imap.host}:{imap.port}"
        for bad in (
            f"{source.name}:{int(uidvalidity) + 1}:{uid}",
            f"{elsewhere}/Other:{uidvalidity}:{uid}",
            f"imap:other@{imap.host}:{imap.port}/INBOX:{uidvalidity}:{uid}",
            f"imap:INBOX:{uidvalidity}:{uid}",  # the old form, without server and account
            "maildir:123.abc",
            "imap:garbage",
            f"{source.name}:garbage",
        ):
            with pytest.raises(SourceError):
                source.done(bad)
    assert counts(imap, "INBOX") == (1,)


def test_copy_expunge_path_leaves_others_marked_deleted(imap: ImapTestServer) -> None:
    append(imap, message(1), message(2), message(3))
    with imap.client() as client:
        client.select_folder("INBOX")
        marked = client.search("ALL")[1]
        client.add_flags([marked], [b"\\Deleted"])  # someone else's pending deletion
    with opened(imap, use_move=False) as source:
        for msg in source.pending():
            if not msg.key.endswith(f":{marked}"):
                source.done(msg.key)
                source.done(msg.key)  # idempotent on this path too
    assert counts(imap, "Processed") == (2,)
    with imap.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search("ALL") == [marked]  # a plain EXPUNGE would have removed it


def test_uid_vanishing_mid_run_is_skipped(imap: ImapTestServer) -> None:
    append(imap, *(message(n) for n in range(4)))
    with opened(imap, batch_size=2) as source:
        messages = source.pending()
        first = next(messages)
        with imap.client() as client:  # another client removes the third meanwhile
            client.select_folder("INBOX")
            third = client.search("ALL")[2]
            client.add_flags([third], [b"\\Deleted"])
            client.expunge()
        rest = list(messages)
    keys = [first.key, *(m.key for m in rest)]
    assert len(keys) == 3 and not any(k.endswith(f":{third}") for k in keys)


def test_uidvalidity_change_resets_cursor(imap: ImapTestServer, caplog: pytest.LogCaptureFixture) -> None:
    with imap.client() as client:
        client.create_folder("Intake")
    append(imap, message(1), folder="Intake")
    cursor = MemoryCursor()
    with opened(imap, cursor, folder="Intake") as source:
        list(source.pending())
    before = cursor.data[source.name]
    assert before[1] > 0
    with imap.client() as client:  # a rebuilt mailbox gets a new UIDVALIDITY
        client.delete_folder("Intake")
        client.create_folder("Intake")
    append(imap, message(2), folder="Intake")
    with caplog.at_level(logging.WARNING), opened(imap, cursor, folder="Intake") as source:
        after = cursor.data[source.name]
        if after[0] == before[0]:
            pytest.skip(f"{imap.kind} reused UIDVALIDITY {before[0]} for the re-created folder")
        (msg,) = list(source.pending())
    assert after == (after[0], 0)
    assert msg.key.startswith(f"imap:{imap.username}@{imap.host}:{imap.port}/Intake:{after[0]}:")
    assert "UIDVALIDITY" in caplog.text


def test_starttls_missing_refuses_before_login(imap: ImapTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = sent_bytes(monkeypatch)
    source = ImapSource(settings(imap, security="starttls"), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match="does not offer STARTTLS"):
        source.open()
    wire = b"".join(sent)
    assert b"LOGIN" not in wire.upper() and b"AUTHENTICATE" not in wire.upper()
    assert imap.password.encode() not in wire


@pytest.fixture(scope="module")
def tls_server() -> Iterator[ImapTestServer]:
    """A second server offering STARTTLS with a self-signed certificate."""
    with ImapTestServer(tls=True) as server:
        yield server


def sent_bytes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record what imaplib sends (before any encryption)."""
    sent: list[bytes] = []
    real_send = imaplib.IMAP4.send

    def spy(self: imaplib.IMAP4, data: bytes) -> None:
        sent.append(data)
        real_send(self, data)

    monkeypatch.setattr(imaplib.IMAP4, "send", spy)
    return sent


def test_starttls_with_trusted_certificate_logs_in(
    tls_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_file))  # trusted by the default context
    with opened(tls_server, security="starttls") as source:
        assert source.count_pending() == 0


def test_starttls_failing_verification_refuses_before_login(
    tls_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = sent_bytes(monkeypatch)
    source = ImapSource(settings(tls_server, security="starttls"), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match=r"STARTTLS.*refusing") as info:
        source.open()
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    wire = b"".join(sent).upper()
    assert b"STARTTLS" in wire and b"LOGIN" not in wire and b"AUTHENTICATE" not in wire


def test_implicit_tls(tls_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    if not tls_server.tls_port:
        pytest.skip(f"{tls_server.kind} has no implicit-TLS listener")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert_file))
    with opened(tls_server, security="ssl", port=tls_server.tls_port) as source:
        assert source.count_pending() == 0


def test_bad_password_is_wrapped_with_cause(imap: ImapTestServer) -> None:
    source = ImapSource(settings(imap, password="wrong"), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match=f"{imap.host}:{imap.port}") as info:
        source.open()
    assert isinstance(info.value.__cause__, imaplib.IMAP4.error)


def test_unreachable_server_is_wrapped_with_cause() -> None:
    server = ImapTestServer("pymap")  # never started: only its address is used
    server.port = free_port()
    source = ImapSource(settings(server, timeout=2), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match="connect") as info:
        source.open()
    assert isinstance(info.value.__cause__, OSError)


def test_failing_token_command_is_reported(imap: ImapTestServer) -> None:
    cmd = "sh -c 'echo token service unavailable >&2; exit 3'"
    source = ImapSource(settings(imap, auth="xoauth2", token_command=cmd), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match=r"exit 3.*token service unavailable"):
        source.open()


def test_token_command_output_is_used_for_xoauth2(imap: ImapTestServer) -> None:
    # Neither test server accepts XOAUTH2: getting as far as the login proves the token ran.
    source = ImapSource(
        settings(imap, auth="xoauth2", token_command="echo not-a-real-token"), MemoryCursor(), 10**6
    )
    with pytest.raises(SourceError, match="XOAUTH2 login") as info:
        source.open()
    assert isinstance(info.value.__cause__, imaplib.IMAP4.error)


def test_tls_against_plaintext_server_fails_cleanly(imap: ImapTestServer) -> None:
    source = ImapSource(settings(imap, security="ssl", timeout=2), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match="connect") as info:
        source.open()
    assert isinstance(info.value.__cause__, ssl.SSLError)


def test_idle_wakes_when_mail_arrives(imap: ImapTestServer) -> None:
    with opened(imap) as source:
        assert list(source.pending()) == []
        start = time.monotonic()
        assert source.wait(0.5) is False
        assert time.monotonic() - start >= 0.4
        timer = threading.Timer(0.3, append, (imap, message(1)))
        timer.start()
        start = time.monotonic()
        try:
            woke = source.wait(15)
        finally:
            timer.join()
        assert woke is True and time.monotonic() - start < 10
        assert len(list(source.pending())) == 1


def test_wait_returns_at_once_for_mail_that_came_while_busy(imap: ImapTestServer) -> None:
    with opened(imap) as source:
        list(source.pending())
        append(imap, message(1))
        start = time.monotonic()
        assert source.wait(15) is True
        assert time.monotonic() - start < 2


def test_wait_without_idle_sleeps(imap: ImapTestServer) -> None:
    with opened(imap, idle=False) as source:
        start = time.monotonic()
        assert source.wait(0.2) is False
        assert time.monotonic() - start >= 0.15


def test_dropped_connection_during_idle_raises(imap: ImapTestServer) -> None:
    with opened(imap) as source:
        list(source.pending())
        threading.Timer(0.3, source._require().socket().shutdown, (2,)).start()
        with pytest.raises(SourceError, match="IDLE"):
            source.wait(10)


def test_factory_opens_imap_source(imap: ImapTestServer, tmp_path: Path) -> None:
    intake = IntakeSettings(
        source="imap",
        maildir=tmp_path,
        max_message_bytes=10**6,
        max_attempts=3,
        imap=settings(imap),
    )
    source = open_source(intake, MemoryCursor())
    try:
        assert isinstance(source, ImapSource) and source.count_pending() == 0
    finally:
        source.close()
