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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
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
NO_RESULT = "no result from the transport"
_MESSAGES = cast(Table, OutboxMessage.__table__)
_RECIPIENTS = cast(Table, OutboxRecipient.__table__)
_SET_RECIPIENT = (
    update(_RECIPIENTS)
    .where(_RECIPIENTS.c.id == bindparam("rid"))
    .values(state=bindparam("state"), last_reply=bindparam("last_reply"), updated_at=bindparam("updated_at"))
)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery pass did: messages fully sent, waiting to retry, and failed;
    `unfinished` when it stopped at its deadline with more messages due."""

    sent: int
    retrying: int
    failed: int
    unfinished: bool = False


@dataclass(frozen=True)
class Recipient:
    """One recipient of a claimed message, as the claim found it."""

    id: int
    address: str
    state: RecipientState
    last_reply: str


@dataclass(frozen=True)
class Claimed:
    """A message claimed for one attempt: what to send, and to whom."""

    outbox_id: int
    attempts: int  # after the claim: a release undoes only this claim, never a later one
    message_id: str
    template: str
    raw: bytes | None  # rows queued before migration 0007 kept their bytes
    content: dict[str, Any] | None
    recipients: tuple[Recipient, ...]

    @property
    def addresses(self) -> list[str]:
        """Who is sent to this time: recipients not yet sent to nor refused for good."""
        return [r.address for r in self.recipients if r.state in _OPEN]


@dataclass
class _Pass:
    """One delivery pass: what it works with, and its running totals."""

    factory: sessionmaker[Session]
    transport: Transport
    settings: OutboundSettings
    sender: str
    now: Callable[[], datetime]
    deadline: float | None
    recorder: ThreadPoolExecutor
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unfinished: bool = False
    broken: bool = False

    def count(self, recorded: Future[str]) -> None:
        """Wait for a result to be recorded and count it."""
        bucket = recorded.result()
        setattr(self, bucket, getattr(self, bucket) + 1)

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
    lease = timedelta(seconds=settings.claim_lease_seconds)
    after = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-record") as recorder:
        p = _Pass(factory, transport, settings, sender, now, deadline, recorder)
        try:
            left = limit
            while left > 0 and not p.broken:
                if deadline is not None and time.monotonic() >= deadline:
                    p.unfinished = _any_due(factory, now())
                    break
                # Half the lease: a message is never started once another worker could take it.
                stop_at = time.monotonic() + lease.total_seconds() / 2
                # Past the last batch's ids: a pass tries each message once, even if due again.
                batch = claim(factory, now(), lease, min(left, CLAIM_BATCH), after=after)
                if not batch:
                    break
                after = batch[-1].outbox_id
                left -= len(batch)
                done = _send_batch(p, batch, stop_at)
                if done < len(batch):
                    release(factory, batch[done:], now())
                    p.unfinished = p.unfinished or not p.broken
                    break
        finally:
            transport.close()
    return p.report()


def _send_batch(p: _Pass, batch: Sequence[Claimed], stop_at: float) -> int:
    """Send each claimed message in turn; returns how many were started.

    Each result is recorded by the recorder thread while the next message is on the wire
    (the database and the SMTP server then work at the same time); the next result waits
    for it, so at most one sent message is unrecorded besides the one being sent.
    """
    recording: Future[str] | None = None
    started = 0
    try:
        for claimed in batch:
            moment = time.monotonic()
            if moment >= stop_at or (p.deadline is not None and moment >= p.deadline):
                break
            results = _send_one(p, claimed)
            started += 1
            if recording is not None:
                p.count(recording)
            recording = p.recorder.submit(_record, p.factory, claimed, results, p.settings, p.now())
            if p.broken:
                break
    finally:
        if recording is not None:
            p.count(recording)
    return started


def _send_one(p: _Pass, claimed: Claimed) -> dict[str, RecipientResult]:
    """The transport's results for one message (built here, out of any transaction)."""
    addresses = claimed.addresses
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
        return p.transport.send(data, p.sender, addresses)
    except TransportError as exc:
        # Set-up trouble (TLS, login) hits every message alike: record and stop the pass.
        log.error("outbox %d: transport unusable: %s", claimed.outbox_id, exc)
        p.broken = True
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
        m, r = OutboxMessage, OutboxRecipient
        wanted = (m.id, m.attempts, m.message_id, m.template, m.raw, m.content)
        conn = session.connection()  # plain rows: the ORM's loading adds a third to a claim
        rows = conn.execute(select(*wanted).where(m.id.in_(ids)).order_by(m.id)).all()
        recipients: dict[int, list[Recipient]] = defaultdict(list)
        query = select(r.outbox_id, r.id, r.address, r.state, r.last_reply).where(r.outbox_id.in_(ids))
        for outbox_id, rid, address, state, reply in conn.execute(query.order_by(r.id)):
            recipients[outbox_id].append(Recipient(rid, address, state, reply))
        return [
            Claimed(i, n, mid, t, raw, content, tuple(recipients[i])) for i, n, mid, t, raw, content in rows
        ]


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
    claimed: Claimed,
    results: dict[str, RecipientResult],
    settings: OutboundSettings,
    when: datetime,
) -> str:
    """Store per-recipient results and move the message on; returns the report bucket."""
    now: list[Recipient] = []
    for r in claimed.recipients:
        if r.state in _OPEN:
            got = results.get(r.address) or RecipientResult(
                r.address, "retry", "no result from the transport"
            )
            r = Recipient(r.id, r.address, RecipientState(got.status), got.reply)
        now.append(r)
    bucket, message, now = _advance(claimed, now, settings, when)
    changed = [
        {"rid": r.id, "state": r.state, "last_reply": r.last_reply, "updated_at": when}
        for r, before in zip(now, claimed.recipients, strict=True)
        if before.state in _OPEN
    ]
    # Not flushed to disk before it returns (durable=False): a crash of this process keeps it,
    # and a power cut that undoes it only makes the message go again (at least once, never lost).
    # Core statements: this runs once per message sent, and the ORM's unit of work adds nothing.
    with transaction(factory, durable=False) as session:
        conn = session.connection()
        if changed:
            conn.execute(_SET_RECIPIENT, changed)
        conn.execute(update(_MESSAGES).where(_MESSAGES.c.id == claimed.outbox_id).values(**message))
    return bucket


def _advance(
    claimed: Claimed, now: list[Recipient], settings: OutboundSettings, when: datetime
) -> tuple[str, dict[str, Any], list[Recipient]]:
    """The report bucket, the message's new values and its recipients' final states."""
    waiting = [r for r in now if r.state in _OPEN]
    refused = [r for r in now if r.state == RecipientState.FAILED]
    attempts, oid, mid = claimed.attempts, claimed.outbox_id, claimed.message_id
    if waiting and attempts < settings.max_attempts:
        next_at, error = when + _backoff(settings, attempts), _summary(waiting + refused)
        log.warning(
            "outbox %d (%s): attempt %d of %d incomplete, next at %s: %s",
            oid, mid, attempts, settings.max_attempts, next_at.isoformat(timespec="seconds"), error,
        )  # fmt: skip
        return "retrying", {"next_attempt_at": next_at, "last_error": error}, now
    if waiting or refused:
        # Attempts exhausted: what is still open has failed.
        now = [
            Recipient(r.id, r.address, RecipientState.FAILED, r.last_reply) if r.state in _OPEN else r
            for r in now
        ]
        error = _summary(waiting + refused)
        log.error(
            "OUTBOX MESSAGE FAILED: outbox %d (%s, %s) after %d attempts: %s "
            "(`mailproc outbox retry %d` sends it again)",
            oid, mid, claimed.template, attempts, error, oid,
        )  # fmt: skip
        return "failed", {"state": DeliveryState.FAILED, "last_error": error}, now
    log.info("outbox %d (%s) sent to %d recipients", oid, mid, len(now))
    return "sent", {"state": DeliveryState.SENT, "sent_at": when, "last_error": ""}, now


def _backoff(settings: OutboundSettings, attempts: int) -> timedelta:
    base = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=base * (1 + JITTER * random.random()))


def _summary(recipients: Sequence[Recipient]) -> str:
    return "; ".join(f"{r.address}: {r.last_reply}" for r in recipients)
