"""One XOAUTH2 token command runner for IMAP and SMTP: errors name the config key and say
why (the command's exit status and last stderr line), never the command line itself."""

from __future__ import annotations

import sys

import pytest

from mailproc.config import ImapSettings, SmtpSettings
from mailproc.config.access_tokens import TokenCommandError, token_from_command
from mailproc.errors import SourceError, TransportError
from mailproc.intake.sources.imap import ImapSource
from mailproc.outbound.transports.smtp import SmtpTransport
from tests.support.cursors import MemoryCursor
from tests.support.imapserver import ImapTestServer
from tests.support.smtpserver import SmtpTestServer

# A command line may carry a client secret: it must never reach a log or an error.
FAILING = "sh -c 'echo token service unavailable >&2; exit 3' client-secret-xyz"


def imap_settings(server: ImapTestServer, command: str) -> ImapSettings:
    return ImapSettings(
        host=server.host, port=server.port, security="none", username=server.username,
        auth="xoauth2", password=None, token_command=command, folder="INBOX",
        processed_folder="Processed", quarantine_folder="Quarantine", batch_size=10,
        idle=True, poll_interval=60, timeout=10,
    )  # fmt: skip


def smtp_settings(server: SmtpTestServer, command: str) -> SmtpSettings:
    return SmtpSettings(
        host=server.host, port=server.port, security="none", username="ifg", auth="xoauth2",
        password=None, token_command=command, timeout=10,
    )  # fmt: skip


def test_imap_token_failure_names_the_key_and_the_reason(imap: ImapTestServer) -> None:
    source = ImapSource(imap_settings(imap, FAILING), MemoryCursor(), 10**6)
    with pytest.raises(SourceError) as info:
        source.open()
    message = str(info.value)
    assert "intake.imap.token_command failed (exit 3): token service unavailable" in message
    assert "client-secret-xyz" not in message


def test_smtp_token_failure_names_the_key_and_the_reason(auth_server: SmtpTestServer) -> None:
    transport = SmtpTransport(smtp_settings(auth_server, FAILING))
    with pytest.raises(TransportError) as info:
        transport.send(b"Subject: x\r\n\r\nx\r\n", "ifg@example.nhs.scot", ["gp@example.org"])
    message = str(info.value)
    assert "outbound.smtp.token_command failed (exit 3): token service unavailable" in message
    assert "client-secret-xyz" not in message
    assert auth_server.messages == []


def test_smtp_token_is_used(auth_server: SmtpTestServer) -> None:
    command = f"{sys.executable} -c \"print('tok-123')\""
    transport = SmtpTransport(smtp_settings(auth_server, command))
    results = transport.send(b"Subject: x\r\n\r\nx\r\n", "ifg@example.nhs.scot", ["gp@example.org"])
    assert results["gp@example.org"].status == "sent"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("", "intake.imap.token_command is empty"),
        ("true", "intake.imap.token_command printed no token: no output"),
        ("/nonexistent/token-helper --secret s3", "could not run '/nonexistent/token-helper'"),
        ("sh -c 'unbalanced", "cannot be split"),
    ],
)
def test_runner_errors(command: str, expected: str) -> None:
    with pytest.raises(TokenCommandError, match=expected) as info:
        token_from_command(command, "intake.imap.token_command")
    assert "--secret" not in str(info.value)


def test_runner_returns_the_printed_token() -> None:
    command = f"{sys.executable} -c \"print('  tok-456  ')\""
    assert token_from_command(command, "outbound.smtp.token_command") == "tok-456"


def test_imap_uses_the_key_for_an_empty_command(imap: ImapTestServer) -> None:
    source = ImapSource(imap_settings(imap, ""), MemoryCursor(), 10**6)
    with pytest.raises(SourceError, match=r"intake\.imap\.token_command is empty"):
        source.open()
