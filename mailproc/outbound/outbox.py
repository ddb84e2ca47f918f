"""The transactional outbox: mail is queued in the transaction that caused it, sent later.

Message states: pending → sent | failed (and failed → pending by `retry`); UNDO moves a
message that has gone to nobody (pending and never attempted, or failed with no recipient
accepting it) to cancelled, which is never sent nor retried.
Recipient states: pending → sent | retry | failed; only pending and retry recipients are
sent to, so a recipient that accepted the message never receives it twice.

An attempt is claimed (attempts + 1, committed) before the transport is called, so a crash
in the middle of a send still counts towards max_attempts, and the claim's lease keeps a
second worker off the message while it is being sent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from mailproc.config import OutboundSettings
from mailproc.errors import MailprocError, TransportError
from mailproc.outbound.headers import safe_address, safe_header
from mailproc.outbound.transports import RecipientResult, Transport
from mailproc.store.db import transaction
from mailproc.store.models import OutboxMessage, OutboxRecipient, utcnow
from mailproc.vocabulary import DeliveryState, RecipientState

log = logging.getLogger(__name__)

JITTER = 0.1  # up to 10% added to a backoff so that retries from many messages spread out
_OPEN = (RecipientState.PENDING, RecipientState.RETRY)
_RECORDERS = "mailproc.outbox.recorders"  # key in Session.info: lists `recording` fills


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did: messages fully sent, waiting to retry, and failed;
    `unfinished` when it stopped at its deadline with more messages due."""

    sent: int
    retrying: int
    failed: int
    unfinished: bool = False


def enqueue(
    session: Session,
    *,
    issue_id: int | None,
    template: str,
    message: EmailMessage,
    recipients: Sequence[str],
    now: datetime,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Queue `message` for `recipients` in the caller's transaction (no commit here), due `now`
    (or at `not_before`: list mail held so that UNDO can still cancel it).

    Returns None when a message with the same Message-ID is already queued: Message-IDs
    are deterministic, so a replayed pass enqueues nothing twice.
    """
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        raise ValueError("an outgoing message needs a Message-ID before it is queued")
    addresses = list(dict.fromkeys(safe_address(a).lower() for a in recipients))
    if not addresses:
        raise ValueError(f"no recipients for {message_id}")
    existing = session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id))
    if existing is not None:
        log.info("outbox already holds %s (id %d); not queued again", message_id, existing)
        return None
    row = OutboxMessage(
        issue_id=issue_id,
        template=template,
        message_id=message_id,
        subject=safe_header(message.get("Subject", ""), 1000),
        raw=message.as_bytes(policy=SMTP),
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=max(now, not_before) if not_before else now,
        last_error="",
        created_at=now,
        recipients=[
            OutboxRecipient(address=a, state=RecipientState.PENDING, last_reply="", updated_at=now)
            for a in addresses
        ],
    )
    session.add(row)
    session.flush()
    for queued in session.info.get(_RECORDERS, ()):
        queued.append(row)
    log.debug("queued %s (%s) for %d recipients", message_id, template, len(addresses))
    return row


@contextmanager
def recording(session: Session) -> Iterator[list[OutboxMessage]]:
    """The messages `enqueue` queues in `session` inside the block (e.g. those a command causes)."""
    queued: list[OutboxMessage] = []
    recorders: list[list[OutboxMessage]] = session.info.setdefault(_RECORDERS, [])
    recorders.append(queued)
    try:
        yield queued
    finally:
        # By identity: an enclosing recording holds an equal list (the same rows so far).
        recorders[:] = [r for r in recorders if r is not queued]


def cancel(session: Session, outbox_id: int) -> bool:
    """Cancel a message that has not gone to anyone, so that it is never sent (nor retried).

    That is a pending message no delivery has claimed an attempt at, or a failed one that no
    recipient accepted; False for any other (it may be on the wire, or was delivered). One
    conditional UPDATE, so that a worker claiming it at the same moment either wins (and this
    returns False) or finds nothing left to claim.
    """
    accepted = select(OutboxRecipient.id).where(
        OutboxRecipient.outbox_id == outbox_id, OutboxRecipient.state == RecipientState.SENT
    )
    untouched = and_(OutboxMessage.state == DeliveryState.PENDING, OutboxMessage.attempts == 0)
    given_up = and_(OutboxMessage.state == DeliveryState.FAILED, ~accepted.exists())
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, or_(untouched, given_up))
        .values(state=DeliveryState.CANCELLED)
        .execution_options(synchronize_session="fetch")  # a row already loaded shows it too
    )
    cancelled = getattr(done, "rowcount", 0) == 1
    if cancelled:
        log.info("outbox %d cancelled before delivery", outbox_id)
    return cancelled


def deliver_due(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: OutboundSettings,
    sender: str,
    now: Callable[[], datetime] = utcnow,
    limit: int = 100,
    deadline: float | None = None,
) -> DeliveryReport:
    """Send the due pending messages (oldest first, at most `limit`) and record results.

    No message is started after `deadline` (time.monotonic()). The batch shares one
    transport session (one SMTP login), closed at the end.
    """
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    unfinished = False
    try:
        for outbox_id in _due(factory, now(), limit):
            if deadline is not None and time.monotonic() >= deadline:
                unfinished = True
                break
            done = _deliver_one(factory, transport, settings, sender, outbox_id, now)
            if done is None:
                continue  # another worker got there first
            bucket, broken = done
            counts[bucket] += 1
            if broken:
                break
    finally:
        transport.close()
    return DeliveryReport(**counts, unfinished=unfinished)


def _deliver_one(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: OutboundSettings,
    sender: str,
    outbox_id: int,
    now: Callable[[], datetime],
) -> tuple[str, bool] | None:
    """Claim, send and record one message: (report bucket, whether the transport is
    unusable), or None when another worker has claimed it."""
    claim = _claim(factory, outbox_id, now(), timedelta(seconds=settings.claim_lease_seconds))
    if claim is None:
        return None
    raw, addresses = claim
    broken = False
    try:
        results = transport.send(raw, sender, addresses) if addresses else {}
    except TransportError as exc:
        # Set-up trouble (TLS, login) hits every message alike: record and stop the pass.
        log.error("outbox %d: transport unusable: %s", outbox_id, exc)
        results = {a: RecipientResult(a, "retry", str(exc)) for a in addresses}
        broken = True
    return _record(factory, outbox_id, results, settings, now()), broken


def _due(factory: sessionmaker[Session], when: datetime, limit: int) -> list[int]:
    with transaction(factory) as session:
        query = (
            select(OutboxMessage.id)
            .where(OutboxMessage.state == DeliveryState.PENDING, OutboxMessage.next_attempt_at <= when)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list(session.scalars(query))


def _claim(
    factory: sessionmaker[Session], outbox_id: int, when: datetime, lease: timedelta
) -> tuple[bytes, list[str]] | None:
    """Count the attempt and take the lease, committed before any byte is sent. The lease
    (`outbound.claim_lease_seconds`) keeps other workers off the message while it is sent;
    after a crash mid-send it is what delays the retry, so it is minutes, not half an hour."""
    with transaction(factory) as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                OutboxMessage.state == DeliveryState.PENDING,
                OutboxMessage.next_attempt_at <= when,
            )
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=when + lease)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        row = session.get_one(OutboxMessage, outbox_id)
        addresses = [r.address for r in row.recipients if r.state in _OPEN]
        return row.raw, addresses


def _record(
    factory: sessionmaker[Session],
    outbox_id: int,
    results: dict[str, RecipientResult],
    settings: OutboundSettings,
    when: datetime,
) -> str:
    """Store per-recipient results and move the message on; returns the report bucket."""
    with transaction(factory) as session:
        row = session.get_one(OutboxMessage, outbox_id)
        for rcpt in row.recipients:
            if rcpt.state not in _OPEN:
                continue
            result = results.get(rcpt.address) or RecipientResult(
                rcpt.address, "retry", "no result from the transport"
            )
            rcpt.state, rcpt.last_reply, rcpt.updated_at = RecipientState(result.status), result.reply, when
        return _advance(row, settings, when)


def _advance(row: OutboxMessage, settings: OutboundSettings, when: datetime) -> str:
    waiting = [r for r in row.recipients if r.state in _OPEN]
    refused = [r for r in row.recipients if r.state == RecipientState.FAILED]
    if waiting and row.attempts < settings.max_attempts:
        row.next_attempt_at = when + _backoff(settings, row.attempts)
        row.last_error = _summary(waiting + refused)
        log.warning(
            "outbox %d (%s): attempt %d of %d incomplete, next at %s: %s",
            row.id,
            row.message_id,
            row.attempts,
            settings.max_attempts,
            row.next_attempt_at.isoformat(timespec="seconds"),
            row.last_error,
        )
        return "retrying"
    for rcpt in waiting:  # attempts exhausted: what is still open has failed
        rcpt.state, rcpt.updated_at = RecipientState.FAILED, when
    if waiting or refused:
        row.state, row.last_error = DeliveryState.FAILED, _summary(waiting + refused)
        log.error(
            "OUTBOX MESSAGE FAILED: outbox %d (%s, %s) after %d attempts: %s "
            "(`mailproc outbox retry %d` sends it again)",
            row.id,
            row.message_id,
            row.template,
            row.attempts,
            row.last_error,
            row.id,
        )
        return "failed"
    row.state, row.sent_at, row.last_error = DeliveryState.SENT, when, ""
    log.info("outbox %d (%s) sent to %d recipients", row.id, row.message_id, len(row.recipients))
    return "sent"


def _backoff(settings: OutboundSettings, attempts: int) -> timedelta:
    base = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=base * (1 + JITTER * random.random()))


def _summary(recipients: Sequence[OutboxRecipient]) -> str:
    return "; ".join(f"{r.address}: {r.last_reply}" for r in recipients)


def retry(session: Session, outbox_id: int, *, now: datetime) -> OutboxMessage:
    """Make a failed (or waiting) message due `now`, with its failed recipients pending again."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise MailprocError(f"outbox message {outbox_id} does not exist (see `mailproc outbox list`)")
    if row.state == DeliveryState.SENT:
        raise MailprocError(f"outbox message {outbox_id} was already sent; nothing to retry")
    if row.state == DeliveryState.CANCELLED:
        raise MailprocError(
            f"outbox message {outbox_id} was cancelled by UNDO and is never sent; "
            "apply the command again to send a new one"
        )
    for rcpt in row.recipients:
        if rcpt.state != RecipientState.SENT:
            rcpt.state, rcpt.updated_at = RecipientState.PENDING, now
    row.state, row.attempts, row.next_attempt_at = DeliveryState.PENDING, 0, now
    log.info("outbox %d (%s) queued again by hand", row.id, row.message_id)
    return row


def list_messages(session: Session, failed_only: bool = False) -> list[OutboxMessage]:
    """Outbox messages with their recipients, oldest first; only failed ones if asked."""
    query = select(OutboxMessage).options(selectinload(OutboxMessage.recipients))
    if failed_only:
        query = query.where(OutboxMessage.state == DeliveryState.FAILED)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def automatic_sent_to(
    session: Session, address: str, since: datetime, templates: Sequence[str] | None = None
) -> int:
    """How many messages (of `templates`, if given) were queued for `address` since `since`,
    failed ones excluded: the count the per-address limit on automatic replies is checked against."""
    query = (
        select(func.count(OutboxRecipient.id))
        .join(OutboxMessage, OutboxRecipient.outbox_id == OutboxMessage.id)
        .where(
            OutboxRecipient.address == address.strip().lower(),
            OutboxRecipient.state != RecipientState.FAILED,
            OutboxMessage.created_at >= since,
        )
    )
    if templates is not None:
        query = query.where(OutboxMessage.template.in_(templates))
    return int(session.scalar(query) or 0)
