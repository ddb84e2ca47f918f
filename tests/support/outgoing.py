"""Outgoing mail for delivery tests: messages queued straight into an outbox, and settings
that send them to the SMTP test server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from mailproc.config import OutboundSettings, SmtpSettings
from mailproc.outbound import outbox
from mailproc.outbound.compose import Envelope
from mailproc.outbound.render import Rendered
from mailproc.outbound.stored import Outgoing
from mailproc.store.db import transaction
from mailproc.store.models import utcnow
from mailproc.vocabulary import make_message_id
from tests.support.smtpserver import SmtpTestServer

SENDER = "ifg@example.nhs.scot"
GP, NURSE = "gp@example.org", "nurse@example.org"


def outbound_settings(tmp_path: Path, server: SmtpTestServer) -> OutboundSettings:
    """SMTP to `server`, three attempts, a minute's backoff."""
    smtp = SmtpSettings(
        host=server.host, port=server.port, security="none", username="", auth="password",
        password=None, token_command="", timeout=10,
    )  # fmt: skip
    return OutboundSettings(
        transport="smtp", maildir=tmp_path / "outbox", max_attempts=3, backoff_seconds=60,
        backoff_max_seconds=3600, acknowledge=True, auto_per_address_per_day=10, smtp=smtp,
    )  # fmt: skip


def queue_many(factory: sessionmaker[Session], n: int, to: tuple[str, ...] = (GP,)) -> list[int]:
    """Queue n distinct acknowledgements (one transaction); their outbox ids, oldest first."""
    ids = []
    with transaction(factory) as session:
        for i in range(n):
            mid = make_message_id("IFG-2026-0042", "ack", f"u{i}", "example.nhs.scot")
            rendered = Rendered(
                subject=f"[IFG-2026-0042] Received {i}", text=f"Noted {i}.\n", html="<p>Noted.</p>"
            )
            message = Outgoing(rendered, Envelope(to=to), "IFG", SENDER, mid, utcnow())
            row = outbox.enqueue(
                session, issue_id=None, template="ack", message=message, recipients=to, now=utcnow()
            )
            assert row is not None
            ids.append(row.id)
    return ids


def later(**delta: float) -> Callable[[], datetime]:
    """A clock that runs `delta` ahead of the real one (past a backoff or a lease)."""
    ahead = timedelta(**delta)
    return lambda: utcnow() + ahead
