"""The transactional outbox: mail is queued in the transaction that caused it, sent later.

Message states: pending → sent | failed (and failed → pending by `retry`); UNDO moves a
message that has gone to nobody (pending and never attempted, or failed with no recipient
accepting it) to cancelled, which is never sent nor retried.
Recipient states: pending → sent | retry | failed; only pending and retry recipients are
sent to, so a recipient that accepted the message never receives it twice.

Delivery (claiming, sending, recording) is in `delivery`; a row keeps the message's
redacted parts and delivery composes the bytes (`stored`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from mailproc.errors import MailprocError

# Delivery lives in `delivery`; its callers know it by this module's name.
from mailproc.outbound.delivery import DeliveryReport as DeliveryReport
from mailproc.outbound.delivery import deliver_due as deliver_due
from mailproc.outbound.headers import safe_address, safe_header
from mailproc.outbound.stored import Outgoing, row_bytes, to_content
from mailproc.store.models import OutboxMessage, OutboxRecipient
from mailproc.vocabulary import DeliveryState, RecipientState

log = logging.getLogger(__name__)

_RECORDERS = "mailproc.outbox.recorders"  # key in Session.info: lists `recording` fills


def enqueue(
    session: Session,
    *,
    issue_id: int | None,
    template: str,
    message: Outgoing,
    recipients: Sequence[str],
    now: datetime,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Queue `message` for `recipients` in the caller's transaction (no commit here), due `now`
    (or at `not_before`: list mail held so that UNDO can still cancel it).

    The row keeps the message's parts, not its bytes: delivery composes them (`stored`).
    Returns None when a message with the same Message-ID is already queued: Message-IDs
    are deterministic, so a replayed pass enqueues nothing twice.
    """
    message_id = message.message_id.strip()
    message.check()  # what composing would refuse at delivery (no Message-ID...) is refused now
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
        subject=safe_header(message.rendered.subject, 1000),
        raw=None,
        content=to_content(message),
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


def message_bytes(row: OutboxMessage) -> bytes | None:
    """The bytes `row` is (or was) sent as; None once `purge` has removed its body."""
    return row_bytes(row.raw, row.content, row.message_id)


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
    if row.raw is None and row.content is None:
        raise MailprocError(
            f"outbox message {outbox_id} can no longer be sent: `mailproc purge` removed its body "
            "after the retention period"
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
