"""SMTP and Maildir transports against a real aiosmtpd server and a real Maildir."""

from __future__ import annotations

import logging
import mailbox
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mailproc.config import OutboundSettings, SmtpSettings
from mailproc.errors import TransportError
from mailproc.outbound.transports import RecipientResult, make_transport
from mailproc.outbound.transports.maildir import MaildirTransport
from mailproc.outbound.transports.smtp import SmtpTransport, status_for
from tests.support.net import free_port
from tests.support.smtpserver import SmtpTestServer

RAW = b"From: ifg@example.nhs.scot\r\nTo: gp@example.org\r\nSubject: hi\r\n\r\nHello\r\n"
GP = "gp@example.org"


def smtp_settings(port: int, **changes: object) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        username="",
        auth="password",
        password=None,
        token_command="",
        timeout=10,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_status_mapping() -> None:
    assert [status_for(c) for c in (250, 251, 421, 451, 452, 550, 552, 553, 554, -1)] == [
        "sent", "sent", "retry", "retry", "retry", "failed", "retry", "failed", "failed", "retry",
    ]  # fmt: skip


def test_starttls_missing_is_refused_not_downgraded(smtp_server: SmtpTestServer) -> None:
    transport = SmtpTransport(smtp_settings(smtp_server.port, security="starttls"))
    with pytest.raises(TransportError, match="does not offer STARTTLS"):
        transport.send(RAW, "ifg@example.nhs.scot", [GP])
    assert smtp_server.messages == []


def test_nobody_listening_means_retry() -> None:
    results = SmtpTransport(smtp_settings(free_port())).send(RAW, "ifg@example.nhs.scot", [GP])
    assert results[GP].status == "retry" and results[GP].reply.startswith("connection:")


def test_timeout_after_data_is_retried_loudly(
    smtp_server: SmtpTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.slow_data(1.5)
    transport = SmtpTransport(smtp_settings(smtp_server.port, timeout=1))
    with caplog.at_level(logging.ERROR, logger="mailproc.outbound.transports.smtp"):
        results = transport.send(RAW, "ifg@example.nhs.scot", [GP])
    assert results[GP].status == "retry"
    assert any("may deliver a duplicate" in r.getMessage() for r in caplog.records)


def test_null_sender_and_refused_recipients(smtp_server: SmtpTestServer) -> None:
    smtp_server.fail("bad@example.org", 550)
    results = SmtpTransport(smtp_settings(smtp_server.port)).send(RAW, "", [GP, "bad@example.org"])
    assert results == {
        GP: RecipientResult(GP, "sent", "250 2.0.0 Message accepted for delivery"),
        "bad@example.org": RecipientResult("bad@example.org", "failed", "550 5.1.1 No such user"),
    }
    [got] = smtp_server.messages
    assert got.mail_from == "<>" and got.rcpt_tos == (GP,) and got.data.endswith(b"Hello\r\n")


def test_sender_refusal(smtp_server: SmtpTestServer) -> None:
    transport = SmtpTransport(smtp_settings(smtp_server.port))
    smtp_server.fail_sender(451)
    assert transport.send(RAW, "ifg@example.nhs.scot", [GP])[GP].status == "retry"
    smtp_server.fail_sender(553)
    with pytest.raises(TransportError, match=r"refused the sender .* 553 5\.7\.1"):
        transport.send(RAW, "ifg@example.nhs.scot", [GP])
    assert smtp_server.messages == []


def test_password_login(auth_server: SmtpTestServer) -> None:
    good = SmtpTransport(smtp_settings(auth_server.port, username="ifg", password="s3cret"))
    assert good.send(RAW, "ifg@example.nhs.scot", [GP])[GP].status == "sent"
    bad = SmtpTransport(smtp_settings(auth_server.port, username="ifg", password="wrong"))
    with pytest.raises(TransportError, match="refused: 535"):
        bad.send(RAW, "ifg@example.nhs.scot", [GP])
    assert len(auth_server.messages) == 1


def test_xoauth2_login_with_token_command(auth_server: SmtpTestServer) -> None:
    def transport(token: str) -> SmtpTransport:
        command = f"{sys.executable} -c \"print('{token}')\""
        return SmtpTransport(
            smtp_settings(auth_server.port, username="ifg", auth="xoauth2", token_command=command)
        )

    assert transport("tok-123").send(RAW, "ifg@example.nhs.scot", [GP])[GP].status == "sent"
    with pytest.raises(TransportError, match="refused"):
        transport("expired").send(RAW, "ifg@example.nhs.scot", [GP])
    broken = SmtpTransport(
        smtp_settings(auth_server.port, username="ifg", auth="xoauth2", token_command="false")
    )
    with pytest.raises(TransportError, match="token_command failed"):
        broken.send(RAW, "ifg@example.nhs.scot", [GP])
    assert len(auth_server.messages) == 1


def test_maildir_transport_writes_once_with_envelope(tmp_path: Path) -> None:
    transport = MaildirTransport(tmp_path / "out")
    results = transport.send(RAW, "ifg@example.nhs.scot", [GP, "b@example.org", GP])
    assert set(results) == {GP, "b@example.org"}
    assert all(r.status == "sent" for r in results.values())
    [path] = (tmp_path / "out" / "new").iterdir()
    content = path.read_bytes()
    assert content.startswith(b"X-Mailproc-Envelope-To: gp@example.org, b@example.org\nFrom:")
    assert b"\r" not in content
    [message] = list(mailbox.Maildir(tmp_path / "out"))
    assert message["Subject"] == "hi"


def test_make_transport(tmp_path: Path) -> None:
    settings = OutboundSettings(
        transport="maildir",
        maildir=tmp_path / "out",
        max_attempts=3,
        backoff_seconds=1,
        backoff_max_seconds=10,
        acknowledge=True,
        auto_per_address_per_day=10,
        smtp=None,
    )
    assert isinstance(make_transport(settings), MaildirTransport)
    with pytest.raises(TransportError, match=r"\[outbound\.smtp\] is missing"):
        make_transport(replace(settings, transport="smtp"))
    smtp = make_transport(replace(settings, transport="smtp", smtp=smtp_settings(25)))
    assert isinstance(smtp, SmtpTransport)
