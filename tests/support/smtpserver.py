"""A real SMTP server (aiosmtpd) on loopback that records what it accepts and can be
told to refuse chosen recipients or the DATA of chosen attempts."""

from __future__ import annotations

import asyncio
import base64
import threading
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.net import free_port

REPLY_TEXT = {
    421: "4.3.2 Service shutting down",
    450: "4.2.0 Mailbox busy",
    451: "4.3.0 Temporary failure",
    550: "5.1.1 No such user",
    552: "5.2.2 Mailbox full",
    553: "5.7.1 Sender address rejected",
    554: "5.6.0 Message rejected",
}


@dataclass(frozen=True)
class Delivered:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


@dataclass
class _Handler:
    messages: list[Delivered] = field(default_factory=list)
    rcpt_failures: dict[str, list[int]] = field(default_factory=dict)
    data_failures: list[int] = field(default_factory=list)
    sender_failures: list[int] = field(default_factory=list)
    data_delay: float = 0.0
    bearer: str | None = None  # "user=...\x01auth=Bearer ...\x01\x01" accepted by XOAUTH2
    ehlos: int = 0  # smtplib says EHLO once per connection (without STARTTLS)
    logins: int = 0  # AUTH attempts, whatever the mechanism
    mails: int = 0  # MAIL FROM commands
    drop_at_mail: dict[int, str] = field(default_factory=dict)  # MAIL FROM number → last words
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        self.count_login()
        try:
            initial = base64.b64decode(args[1], validate=True).decode()
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=initial == self.bearer, handled=False)

    def count_login(self) -> None:
        with self.lock:
            self.logins += 1

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.ehlos += 1
        session.host_name = hostname  # aiosmtpd leaves this to a handler that hooks EHLO
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        with self.lock:
            self.mails += 1
            last_words = self.drop_at_mail.get(self.mails)
            code = self.sender_failures.pop(0) if self.sender_failures and last_words is None else None
        if last_words == "":
            # As a server that timed out an idle connection: gone, without a word.
            server.transport.abort()
        if last_words is not None:
            return last_words  # a 421 makes the client hang up
        if code is not None:
            return f"{code} {REPLY_TEXT.get(code, 'refused')}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            codes = self.rcpt_failures.get(address.lower())
            code = codes.pop(0) if codes else None
        if code is not None:
            return f"{code} {REPLY_TEXT.get(code, 'refused')}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            code = self.data_failures.pop(0) if self.data_failures else None
        if code is not None:
            return f"{code} {REPLY_TEXT.get(code, 'refused')}"
        delivered = Delivered(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
        with self.lock:
            self.messages.append(delivered)
        return "250 2.0.0 Message accepted for delivery"


@dataclass(frozen=True)
class _Authenticator:
    user: str
    password: str
    handler: _Handler

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.handler.count_login()
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)


class SmtpTestServer:
    """aiosmtpd's Controller on 127.0.0.1 and a free port, without STARTTLS.

    With `login` = (user, password), AUTH PLAIN/LOGIN accept exactly that pair, and
    XOAUTH2 accepts `user` with the bearer token `oauth_token` (plaintext AUTH allowed:
    loopback only).
    """

    host = "127.0.0.1"

    def __init__(self, login: tuple[str, str] | None = None, oauth_token: str = "") -> None:
        self.handler = _Handler()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if login is not None:
            self.handler.bearer = f"user={login[0]}\x01auth=Bearer {oauth_token}\x01\x01"
            kwargs = {"auth_require_tls": False, "authenticator": _Authenticator(*login, self.handler)}
        self.controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Delivered]:
        with self.handler.lock:
            return list(self.handler.messages)

    def received_by(self, address: str) -> list[Delivered]:
        """The accepted messages that had `address` among their envelope recipients."""
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def fail(self, address: str, code: int, times: int = 1) -> None:
        """Answer RCPT TO:<address> with `code` for its next `times` attempts."""
        with self.handler.lock:
            self.handler.rcpt_failures.setdefault(address.lower(), []).extend([code] * times)

    def fail_data(self, code: int, times: int = 1) -> None:
        """Answer the next `times` DATA commands with `code`."""
        with self.handler.lock:
            self.handler.data_failures.extend([code] * times)

    def fail_sender(self, code: int, times: int = 1) -> None:
        """Answer the next `times` MAIL FROM commands with `code`."""
        with self.handler.lock:
            self.handler.sender_failures.extend([code] * times)

    def drop_connection_at_mail(self, *numbers: int, reply: str = "") -> None:
        """End the session at these MAIL FROMs (counted from 1): silently, or with `reply`
        (a 421, after which the client closes the connection)."""
        with self.handler.lock:
            self.handler.drop_at_mail.update(dict.fromkeys(numbers, reply))

    @property
    def sessions(self) -> int:
        """Connections that said EHLO: one per SMTP session (no STARTTLS here)."""
        with self.handler.lock:
            return self.handler.ehlos

    @property
    def logins(self) -> int:
        """AUTH attempts so far."""
        with self.handler.lock:
            return self.handler.logins

    def slow_data(self, seconds: float) -> None:
        """Wait this long before answering DATA (to provoke a client timeout)."""
        self.handler.data_delay = seconds
