"""The SMTP transport (smtplib): TLS or STARTTLS, password or XOAUTH2, per-recipient results.

Reply codes decide the fate of each recipient: 2xx sent; 4xx and 552 (mailbox full,
RFC 5321 allows treating it as temporary) retry; other 5xx failed. Trouble with the
connection is always "retry" — even after DATA, where the server may already have the
message: a rare duplicate is better than a lost acknowledgement, and it is logged loudly.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailproc.config import SmtpSettings
from mailproc.config.secrets import TokenCommandError, token_from_command
from mailproc.errors import TransportError
from mailproc.outbound.transports import RecipientResult, Status

if TYPE_CHECKING:
    from typing_extensions import Buffer

log = logging.getLogger(__name__)

TOKEN_KEY = "outbound.smtp.token_command"


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers whether DATA began and what the server answered."""

    data_started = False
    data_reply: tuple[int, bytes] | None = None

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        self.data_started = True
        self.data_reply = super().data(msg)
        return self.data_reply


class _SMTPSSL(smtplib.SMTP_SSL, _SMTP):
    """Implicit TLS with the same bookkeeping."""


def status_for(code: int) -> Status:
    """The recipient status an SMTP reply code means."""
    if 200 <= code < 300:
        return "sent"
    if 500 <= code < 600 and code != 552:
        return "failed"
    return "retry"  # 4xx, 552, and smtplib's -1 for a reply it could not read


def format_reply(code: int, text: bytes | str) -> str:
    """`550 5.1.1 no such user` on one line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(f"{code} {text}".split())


class SmtpTransport:
    """Sends each message in its own SMTP session."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
        """Deliver `raw` to `recipients`; raise TransportError on set-up that cannot work."""
        targets = list(dict.fromkeys(recipients))
        smtp: _SMTP | None = None
        try:
            smtp = self._connect()
            self._authenticate(smtp)
            refused = smtp.sendmail(sender, targets, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            # No DATA happened: whoever was not refused outright simply has to wait.
            return _refused(targets, exc.recipients, "retry", "not attempted: RCPT refused")
        except smtplib.SMTPSenderRefused as exc:
            if status_for(exc.smtp_code) == "failed":
                # A permanently refused envelope sender is set-up trouble shared by every
                # message: stop the pass rather than fail each message in turn.
                raise TransportError(f"SMTP server refused the sender {sender!r}: {_describe(exc)}") from None
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPDataError as exc:
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"TLS certificate of {self.settings.host} not trusted: {exc.verify_message}"
            ) from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            return self._lost(targets, smtp, exc)
        except smtplib.SMTPResponseException as exc:  # e.g. 421 or 5xx to EHLO
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except OSError as exc:  # socket errors, timeouts, and smtplib's other SMTPExceptions
            return self._lost(targets, smtp, exc)
        finally:
            if smtp is not None:
                _quit(smtp)
        reply = smtp.data_reply or (250, b"accepted")
        return _refused(targets, refused, "sent", format_reply(*reply))

    def probe(self) -> str:
        """Connect, secure and log in without sending anything (`mailproc check --connect`)."""
        s = self.settings
        try:
            smtp = self._connect()
            try:
                self._authenticate(smtp)
                code, text = smtp.noop()
            finally:
                _quit(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"SMTP server {s.host}:{s.port} ({s.security}): {_describe(exc)}") from exc
        return f"SMTP {s.host}:{s.port} ({s.security}) answered {format_reply(code, text)}"

    def _connect(self) -> _SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "ssl":
            return _SMTPSSL(s.host, s.port, timeout=s.timeout, context=context)
        smtp = _SMTP(s.host, s.port, timeout=s.timeout)
        smtp.ehlo()
        if s.security == "starttls":
            if not smtp.has_extn("starttls"):
                _quit(smtp)
                # Never fall back to plaintext: credentials and patient mail would be exposed.
                raise TransportError(
                    f"SMTP server {s.host}:{s.port} does not offer STARTTLS; refusing to "
                    'send unencrypted (set outbound.smtp.security = "ssl" or fix the server)'
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        return smtp

    def _authenticate(self, smtp: _SMTP) -> None:
        s = self.settings
        if not s.username:
            return
        try:
            if s.auth == "xoauth2":
                token = _oauth_token(s.token_command)
                initial = f"user={s.username}\x01auth=Bearer {token}\x01\x01"
                # On failure the server sends a JSON challenge and waits for an empty line.
                smtp.ehlo_or_helo_if_needed()
                smtp.auth("XOAUTH2", lambda challenge=None: "" if challenge else initial)
            else:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPServerDisconnected:
            raise  # transient: the caller retries
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
                raise  # a temporary refusal (454): retried like any 4xx
            # Wrong credentials, no AUTH offered, no common mechanism: retrying cannot help.
            raise TransportError(
                f"SMTP login as {s.username} at {s.host} refused: {_describe(exc)}"
            ) from None

    def _lost(self, targets: list[str], smtp: _SMTP | None, exc: BaseException) -> dict[str, RecipientResult]:
        s = self.settings
        if smtp is not None and smtp.data_started and smtp.data_reply is None:
            log.error(
                "SMTP connection to %s:%s lost after the message was sent (%s); the server "
                "may have accepted it: retrying, which may deliver a duplicate to %s",
                s.host,
                s.port,
                exc,
                ", ".join(targets),
            )
        else:
            log.warning("SMTP connection to %s:%s failed: %s", s.host, s.port, exc)
        reply = f"connection: {_describe(exc)}"
        return {a: RecipientResult(a, "retry", reply) for a in targets}


def _refused(
    targets: list[str],
    refused: dict[str, tuple[int, bytes]],
    default_status: Status,
    default_reply: str,
) -> dict[str, RecipientResult]:
    """Results from smtplib's refused-recipients map; recipients not in it were accepted
    ("sent", with the DATA reply) or never got that far ("retry")."""
    results: dict[str, RecipientResult] = {}
    for address in targets:
        if address in refused:
            code, text = refused[address]
            results[address] = RecipientResult(address, status_for(code), format_reply(code, text))
        else:
            results[address] = RecipientResult(address, default_status, default_reply)
    return results


def _all(targets: list[str], code: int, text: bytes | str) -> dict[str, RecipientResult]:
    status, reply = status_for(code), format_reply(code, text)
    if status == "sent":  # a 2xx inside an exception means the reply was not understood
        status = "retry"
    return {a: RecipientResult(a, status, reply) for a in targets}


def _oauth_token(command: str) -> str:
    """The access token from the configured command; its failure is set-up trouble."""
    try:
        return token_from_command(command, TOKEN_KEY)
    except TokenCommandError as exc:
        raise TransportError(str(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return format_reply(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__


def _quit(smtp: smtplib.SMTP) -> None:
    """End the session politely; a failing QUIT must not undo a completed transaction."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
