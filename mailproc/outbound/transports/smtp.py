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
from mailproc.config.access_tokens import TokenCommandError, token_from_command
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


class _Stale(Exception):
    """The connection kept from an earlier message was gone before this one was sent."""


class SmtpTransport:
    """Sends messages over one SMTP session (one login), kept from the first send() until
    close(); a session the server has dropped meanwhile is replaced without a lost turn."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: _SMTP | None = None

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
        """Deliver `raw` to `recipients`; raise TransportError on set-up that cannot work."""
        targets = list(dict.fromkeys(recipients))
        kept = self._smtp is not None and self._smtp.sock is not None  # smtplib drops it on 421
        if not kept:
            self.close()
        try:
            return self._transaction(raw, sender, targets, kept)
        except _Stale as exc:
            # Servers close idle sessions; nothing of this message was sent: go again at once.
            log.info("SMTP session with %s:%s had ended (%s); reconnecting", *self._address(), exc)
            self._drop()
        return self._transaction(raw, sender, targets, kept=False)

    def close(self) -> None:
        """End the session (QUIT); the next send() opens a new one."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            _quit(smtp)

    def _transaction(
        self, raw: bytes, sender: str, targets: list[str], kept: bool
    ) -> dict[str, RecipientResult]:
        """One MAIL transaction, on the kept session or a new one; refusals keep the session."""
        try:
            smtp = self._session()
            smtp.data_started, smtp.data_reply = False, None
            refused = smtp.sendmail(sender, targets, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            # No DATA happened: whoever was not refused outright simply has to wait.
            return _refused(targets, exc.recipients, "retry", "not attempted: RCPT refused")
        except smtplib.SMTPSenderRefused as exc:
            if kept and exc.smtp_code == 421:  # "closing": the session had timed out
                raise _Stale(_describe(exc)) from exc
            if status_for(exc.smtp_code) == "failed":
                # A permanently refused envelope sender is set-up trouble shared by every
                # message: stop the pass rather than fail each message in turn.
                raise TransportError(f"SMTP server refused the sender {sender!r}: {_describe(exc)}") from None
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPDataError as exc:
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise TransportError(
                f"TLS certificate of {self.settings.host} not trusted: {exc.verify_message}"
            ) from None
        except smtplib.SMTPConnectError as exc:  # a refusing greeting: try again later
            return self._lost(targets, kept, exc)
        except smtplib.SMTPResponseException as exc:  # e.g. 421 or 5xx to EHLO, 454 to AUTH
            self._drop()
            return _all(targets, exc.smtp_code, exc.smtp_error)
        except OSError as exc:  # disconnects, socket errors, timeouts, other SMTPExceptions
            return self._lost(targets, kept, exc)
        reply = smtp.data_reply or (250, b"accepted")
        return _refused(targets, refused, "sent", format_reply(*reply))

    def _session(self) -> _SMTP:
        """The kept session, or a new one: connected, secured and logged in."""
        if self._smtp is None:
            smtp = self._connect()
            try:
                self._authenticate(smtp)
            except BaseException:
                _quit(smtp)
                raise
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        """Forget a session that is broken or in an unknown state, without a QUIT."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _address(self) -> tuple[str, int]:
        return self.settings.host, self.settings.port

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

    def _lost(self, targets: list[str], kept: bool, exc: OSError) -> dict[str, RecipientResult]:
        """Results for a session that broke; on a kept one before DATA, _Stale instead."""
        smtp = self._smtp
        began = smtp is not None and smtp.data_started
        unanswered = smtp is not None and smtp.data_started and smtp.data_reply is None
        self._drop()
        if kept and not began:
            raise _Stale(_describe(exc)) from exc
        if unanswered:
            log.error(
                "SMTP connection to %s:%s lost after the message was sent (%s); the server "
                "may have accepted it: retrying, which may deliver a duplicate to %s",
                *self._address(),
                exc,
                ", ".join(targets),
            )
        else:
            log.warning("SMTP connection to %s:%s failed: %s", *self._address(), exc)
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
