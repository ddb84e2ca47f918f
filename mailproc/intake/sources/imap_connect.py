"""Getting into an IMAP account: connect, TLS or STARTTLS (never plaintext by accident), log in.

Every failure becomes a SourceError that names the server and the step, so that `watch`
can back off and reconnect and an operator can see what went wrong where.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient

from mailproc.config import ImapSettings
from mailproc.config.access_tokens import TokenCommandError, token_from_command
from mailproc.errors import SourceError

log = logging.getLogger(__name__)

NETWORK_ERRORS = (imaplib.IMAP4.error, OSError)
TOKEN_KEY = "intake.imap.token_command"


def where(settings: ImapSettings) -> str:
    """The server as messages name it: `host:port (security)`."""
    return f"{settings.host}:{settings.port} ({settings.security})"


@contextmanager
def guard(what: str, settings: ImapSettings) -> Iterator[None]:
    """Turn imapclient and socket errors into SourceError naming server, folder and step."""
    try:
        yield
    except SourceError:
        raise
    except NETWORK_ERRORS as exc:
        raise SourceError(
            f"IMAP {what} failed on {where(settings)}, folder {settings.folder!r}: "
            f"{exc or type(exc).__name__}"
        ) from exc


def log_in(settings: ImapSettings) -> IMAPClient:
    """A connected, secured and logged-in client (no folder selected yet)."""
    client = _connect(settings)
    try:
        _login(client, settings)
    except BaseException:
        abandon(client)
        raise
    return client


def _connect(settings: ImapSettings) -> IMAPClient:
    s = settings
    if s.security not in ("ssl", "starttls", "none"):
        raise SourceError(f"unknown IMAP security {s.security!r}: use ssl, starttls or none")
    implicit_tls = s.security == "ssl"
    context = ssl.create_default_context() if implicit_tls else None
    with guard("connect", s):
        client = IMAPClient(s.host, s.port, ssl=implicit_tls, ssl_context=context, timeout=s.timeout)
    if s.security == "starttls":
        _starttls(client, s)
    return client


def _starttls(client: IMAPClient, settings: ImapSettings) -> None:
    """Upgrade to TLS or give up: never carry on (and send a password) in plaintext."""
    try:
        offered = client.has_capability("STARTTLS")
        if offered:
            client.starttls(ssl.create_default_context())
    except NETWORK_ERRORS as exc:
        abandon(client)
        raise SourceError(
            f"STARTTLS with IMAP server {where(settings)} failed: {exc}; "
            "refusing to continue without encryption"
        ) from exc
    if not offered:
        abandon(client)
        raise SourceError(
            f"IMAP server {where(settings)} does not offer STARTTLS; refusing to log in "
            'without encryption (use security = "ssl" on port 993 if the server supports it)'
        )


def _login(client: IMAPClient, settings: ImapSettings) -> None:
    s = settings
    if s.auth == "xoauth2":
        try:
            token = token_from_command(s.token_command, TOKEN_KEY)
        except TokenCommandError as exc:
            raise SourceError(str(exc)) from exc  # a SourceError: watch retries later
        with guard(f"XOAUTH2 login as {s.username!r}", s):
            client.oauth2_login(s.username, token)
        return
    if not s.password:
        raise SourceError(f"no IMAP password for {s.username!r} (set password_env)")
    with guard(f"login as {s.username!r}", s):
        client.login(s.username, s.password)


def abandon(client: IMAPClient) -> None:
    """Drop a connection without a polite LOGOUT (it is unusable or must not be used)."""
    try:
        client.shutdown()
    except Exception as exc:  # the socket may already be gone
        log.debug("IMAP shutdown failed: %s", exc)
