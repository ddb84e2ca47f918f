"""Delivery from the outbox: claim a batch, send each message over one transport session,
record each result as soon as the server has given it.

A batch is claimed in one transaction (attempts + 1 and the lease, committed) before the
transport is called, so a crash in the middle of a send still counts towards max_attempts,
and the lease (`outbound.claim_lease_seconds`) keeps other workers off the batch while it is
sent; after a crash it is what delays the retry. On PostgreSQL the claim selects with
`FOR UPDATE SKIP LOCKED`, so two workers claim disjoint batches at once; on SQLite the claim
begins IMMEDIATE, so claims take turns on the one write lock. Each result is committed on
its own: a crash resends at most the message on the wire, never one whose result is recorded.
Messages of a batch not started (deadline, broken transport, lease half gone) are released.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mailproc.config import OutboundSettings
from mailproc.errors import TransportError
from mailproc.outbound.stored import row_bytes
from mailproc.outbound.transports import RecipientResult, Transport
from mailproc.store.db import transaction
from mailproc.store.models import OutboxMessage, OutboxRecipient, utcnow
from mailproc.vocabulary import DeliveryState, RecipientState

log = logging.getLogger(__name__)

JITTER = 0.1  # up to 10% added to a backoff so that retries from many messages spread out
CLAIM_BATCH = 100  # messages claimed per transaction
_OPEN = (RecipientState.PENDING, RecipientState.RETRY)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did: messages fully sent, waiting to retry, and failed;
    `unfinished` when it stopped at its deadline with more messages due."""

    sent: int
    retrying: int
    failed: int
    unfinished: bool = False


@dataclass(frozen=True)
class Claimed:
    """A message claimed for one attempt: what to send, and to whom."""

    outbox_id: int
    attempts: int  # after the claim: a release undoes only this claim, never a later one
    message_id: str
    raw: bytes | None  # rows queued before migration 0007 kept their bytes
    content: dict[str, Any] | None
    addresses: tuple[str, ...]


@dataclass
class _Pass:
    """A delivery pass's running totals."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unfinished: bool = False
    broken: bool = False

    def report(self) -> DeliveryReport:
        return DeliveryReport(self.sent, self.retrying, self.failed, self.unfinished)


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

    No message is started after `deadline` (time.monotonic()). The pass shares one
    transport session (one SMTP login), closed at the end.
    """
    totals = _Pass()
    lease = timedelta(seconds=settings.claim_lease_seconds)
    after = 0
    try:
        left = limit
        while left > 0 and not totals.broken:
            if deadline is not None and time.monotonic() >= deadline:
                totals.unfinished = _any_due(factory, now())
                break
            # Half the lease: a message is never started once another worker could take it.
            stop_at = time.monotonic() + lease.total_seconds() / 2
            # Past the last batch's ids: a pass tries each message once, even if due again.
            batch = claim(factory, now(), lease, min(left, CLAIM_BATCH), after=after)
            if not batch:
                break
            after = batch[-1].outbox_id
            left -= len(batch)
            done = _send_batch(factory, transport, settings, sender, batch, now, totals, stop_at, deadline)
            if done < len(batch):
                release(factory, batch[done:], now())
                totals.unfinished = totals.unfinished or not totals.broken
                break
    finally:
        transport.close()
    return totals.report()


def _send_batch(
    factory: sessionmaker[Session],
    transport: Transport,
    settings: OutboundSettings,
    sender: str,
    batch: Sequence[Claimed],
    now: Callable[[], datetime],
    totals: _Pass,
    stop_at: float,
    deadline: float | None,
) -> int:
    """Send and record each claimed message in turn; returns how many were started."""
    for started, claimed in enumerate(batch):
        moment = time.monotonic()
        if moment >= stop_at or (deadline is not None and moment >= deadline):
            return started
        results = _send_one(transport, sender, claimed, totals)
        bucket = _record(factory, claimed.outbox_id, results, settings, now())
        setattr(totals, bucket, getattr(totals, bucket) + 1)
        if totals.broken:
            return started + 1
    return len(batch)


def _send_one(
    transport: Transport, sender: str, claimed: Claimed, totals: _Pass
) -> dict[str, RecipientResult]:
    """The transport's results for one message (built here, out of any transaction)."""
    addresses = list(claimed.addresses)
    try:
        data = row_bytes(claimed.raw, claimed.content, claimed.message_id)
    except (ValueError, KeyError, TypeError) as exc:  # a row no release of mailproc can build
        log.error("outbox %d: the message cannot be built: %s", claimed.outbox_id, exc)
        return {a: RecipientResult(a, "failed", f"cannot be built: {exc}") for a in addresses}
    if data is None:
        return {a: RecipientResult(a, "failed", "its body was purged") for a in addresses}
    if not addresses:
        return {}
    try:
        return transport.send(data, sender, addresses)
    except TransportError as exc:
        # Set-up trouble (TLS, login) hits every message alike: record and stop the pass.
        log.error("outbox %d: transport unusable: %s", claimed.outbox_id, exc)
        totals.broken = True
        return {a: RecipientResult(a, "retry", str(exc)) for a in addresses}


def claim(
    factory: sessionmaker[Session], when: datetime, lease: timedelta, limit: int, after: int = 0
) -> list[Claimed]:
    """Claim up to `limit` due messages with ids above `after`, oldest first, in one transaction
    committed before any byte is sent: each attempt counted, each lease taken (see above)."""
    with transaction(factory) as session:
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.state == DeliveryState.PENDING,
                OutboxMessage.next_attempt_at <= when,
                OutboxMessage.id > after,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds its write lock already
        )
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=when + lease)
            .execution_options(synchronize_session=False)
        )
        wanted = (OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.message_id)
        rows = session.execute(
            select(*wanted, OutboxMessage.raw, OutboxMessage.content)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
        ).all()
        addresses: dict[int, list[str]] = defaultdict(list)
        open_recipients = (
            select(OutboxRecipient.outbox_id, OutboxRecipient.address)
            .where(OutboxRecipient.outbox_id.in_(ids), OutboxRecipient.state.in_(_OPEN))
            .order_by(OutboxRecipient.id)
        )
        for outbox_id, address in session.execute(open_recipients):
            addresses[outbox_id].append(address)
        return [Claimed(i, n, mid, raw, content, tuple(addresses[i])) for i, n, mid, raw, content in rows]


def release(factory: sessionmaker[Session], claimed: Sequence[Claimed], when: datetime) -> None:
    """Give back claims on messages not started: their attempt uncounted, due again at once.
    A claim another worker has taken since (its lease ran out) is left alone."""
    with transaction(factory) as session:
        for c in claimed:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == c.outbox_id,
                    OutboxMessage.state == DeliveryState.PENDING,
                    OutboxMessage.attempts == c.attempts,
                )
                .values(attempts=OutboxMessage.attempts - 1, next_attempt_at=when)
                .execution_options(synchronize_session=False)
            )


def _any_due(factory: sessionmaker[Session], when: datetime) -> bool:
    with factory() as session:
        due = select(OutboxMessage.id).where(
            OutboxMessage.state == DeliveryState.PENDING, OutboxMessage.next_attempt_at <= when
        )
        return session.scalar(due.limit(1)) is not None


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


