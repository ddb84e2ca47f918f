"""`mailproc purge`: drop raw mail, attachments and the bodies of outgoing mail done with past
the retention period, and redact the texts kept beside them (command texts, errors, refusal
and quarantine reasons, outgoing subjects).

The issue, its events and the redacted text stay; issues on hold are never purged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.privacy import detector
from mailproc.store.db import transaction
from mailproc.store.issues import add_event
from mailproc.store.models import Event, Issue, Message, OutboxMessage, Quarantined, SourceAttempt
from mailproc.vocabulary import DeliveryState

log = logging.getLogger(__name__)


# Free text in an event's detail: a command's text, an error (which echoes the command line
# that caused it) and a refusal's reason. An identifier typed into any of them is kept there.
EVENT_TEXTS = ("text", "error", "reason")
TEXT_EVENTS = ("command", "command-error", "command-rejected")


@dataclass(frozen=True)
class PurgeReport:
    messages: int
    attachments: int
    quarantined: int
    bytes: int
    held_skipped: int
    dry_run: bool
    texts: int = 0  # stored error texts and notes that (would) lose an identifier
    outgoing: int = 0  # outbox messages done with whose body (would be) dropped

    def line(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        return (
            f"{verb} {self.messages} message(s), {self.attachments} attachment(s), "
            f"{self.quarantined} quarantined message(s), {self.outgoing} sent message body(ies), "
            f"{self.bytes} bytes; "
            f"{'would redact' if self.dry_run else 'redacted'} {self.texts} stored text(s); "
            f"{self.held_skipped} message(s) kept for issues on hold"
        )


def purge(app: App, dry_run: bool = False) -> PurgeReport:
    """Purge (or with dry_run, count) everything older than `detector.retention_days`."""
    cutoff = app.clock() - timedelta(days=app.settings.privacy.retention_days)
    with transaction(app.factory) as session:
        old = select(Message).outerjoin(Issue, Message.issue_id == Issue.id)
        old = old.where(Message.received_at < cutoff, Message.raw.is_not(None))
        rows = list(session.scalars(old))
        held = [m for m in rows if m.issue is not None and m.issue.on_hold]
        todo = [m for m in rows if not (m.issue is not None and m.issue.on_hold)]
        quarantined = list(
            session.scalars(
                select(Quarantined).where(Quarantined.created_at < cutoff, Quarantined.raw.is_not(None))
            )
        )
        outgoing = list(session.scalars(_outbox_done(cutoff)))
        report = replace(_report(todo, quarantined, len(held), dry_run), outgoing=len(outgoing))
        # A dry run redacts too, to count what would change, and then rolls it all back.
        texts = redact_stored_texts(session, cutoff, app.settings.privacy.patterns)
        report = replace(report, texts=texts)
        if dry_run:
            session.rollback()
        else:
            _apply(app, session, todo, quarantined, texts)
            for row in outgoing:
                _purge_outgoing(row, app.settings.privacy.patterns)
    log.info("%s", report.line())
    return report


def _report(todo: list[Message], quarantined: list[Quarantined], held: int, dry_run: bool) -> PurgeReport:
    size = sum(len(m.raw or b"") for m in todo) + sum(len(a.data or b"") for m in todo for a in m.attachments)
    size += sum(len(q.raw or b"") for q in quarantined)
    return PurgeReport(
        messages=len(todo),
        attachments=sum(1 for m in todo for a in m.attachments if a.data is not None),
        quarantined=len(quarantined),
        bytes=size,
        held_skipped=held,
        dry_run=dry_run,
    )


def _apply(
    app: App, session: Session, todo: list[Message], quarantined: list[Quarantined], texts: int
) -> None:
    now = app.clock()
    extra = app.settings.privacy.patterns
    per_issue: Counter[int] = Counter()
    for m in todo:
        _purge_message(m, extra, now)
        if m.issue_id is not None:
            per_issue[m.issue_id] += 1
    for q in quarantined:
        q.raw = None
    for issue_id, count in per_issue.items():
        issue = session.get(Issue, issue_id)
        if issue is not None:
            _redact_issue(session, issue, extra)
        add_event(session, issue, "mailproc", "purge", "purged", now, messages=count)
    add_event(
        session, None, "mailproc", "purge", "purge-run", now,
        messages=len(todo), quarantined=len(quarantined), texts=texts,
    )  # fmt: skip


def _outbox_done(cutoff: datetime) -> Select[OutboxMessage]:
    """Outbox messages past retention that will never be sent again, body still stored.

    Mail to administrators may carry identifiers unredacted (`privacy.redact_for_admins`),
    and every body is a copy of what the recipients have: past retention it goes. Issues on
    hold keep theirs, as they keep their inbound mail."""
    on_hold = select(Issue.id).where(Issue.on_hold.is_(True))
    return select(OutboxMessage).where(
        OutboxMessage.created_at < cutoff,
        OutboxMessage.state.in_((DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.CANCELLED)),
        or_(OutboxMessage.content.is_not(None), OutboxMessage.raw.is_not(None)),
        or_(OutboxMessage.issue_id.is_(None), OutboxMessage.issue_id.not_in(on_hold)),
    )


def _purge_outgoing(row: OutboxMessage, extra: Sequence[detector.ExtraPattern]) -> None:
    row.content, row.raw = None, None
    row.subject = detector.redact(row.subject, extra)


def _purge_message(m: Message, extra: Sequence[detector.ExtraPattern], now: datetime) -> None:
    """Past retention only the redacted form of anything a sender wrote is kept."""
    m.raw = None
    m.purged_at = now
    # An empty redacted_text: nothing was redacted at intake (or the text was empty).
    m.text = m.redacted_text or detector.redact(m.visible_text or m.text, extra)
    m.visible_text = detector.redact(m.visible_text, extra)
    m.subject = detector.redact(m.subject, extra)
    error = m.detail.get("error")
    if isinstance(error, str) and error:
        m.detail = {**m.detail, "error": detector.redact(error, extra)}
    for a in m.attachments:
        a.data = None
        a.filename = detector.redact(a.filename, extra)


def _redact_issue(session: Session, issue: Issue, extra: Sequence[detector.ExtraPattern]) -> None:
    issue.subject = detector.redact(issue.subject, extra)
    issue.outcome = detector.redact(issue.outcome, extra) if issue.outcome else issue.outcome
    for event in session.scalars(select(Event).where(Event.issue_id == issue.id)):
        _redact_event(event, extra)


def redact_stored_texts(session: Session, cutoff: datetime, extra: Sequence[detector.ExtraPattern]) -> int:
    """Redact the free text kept beside the mail from before `cutoff`: command texts, errors and
    refusals in events (except on issues on hold), processing errors of source messages,
    delivery errors, quarantine reasons. Returns how many texts changed."""
    events = (
        select(Event)
        .outerjoin(Issue, Event.issue_id == Issue.id)
        .where(Event.at < cutoff, Event.action.in_(TEXT_EVENTS))
        .where(or_(Event.issue_id.is_(None), Issue.on_hold.is_(False)))
    )
    changed = sum(_redact_event(e, extra) for e in session.scalars(events))
    failing = select(SourceAttempt).where(SourceAttempt.updated_at < cutoff, SourceAttempt.last_error != "")
    for attempt in session.scalars(failing):
        attempt.last_error, hit = _redacted(attempt.last_error, extra)
        changed += hit
    undelivered = select(OutboxMessage).where(
        OutboxMessage.created_at < cutoff, OutboxMessage.last_error != ""
    )
    for row in session.scalars(undelivered):
        row.last_error, hit = _redacted(row.last_error, extra)
        changed += hit
    for held in session.scalars(select(Quarantined).where(Quarantined.created_at < cutoff)):
        held.reason, hit = _redacted(held.reason, extra)
        changed += hit
    return changed


def _redact_event(event: Event, extra: Sequence[detector.ExtraPattern]) -> int:
    detail, changed = dict(event.detail), 0
    for key in EVENT_TEXTS:
        value = detail.get(key)
        if isinstance(value, str) and value:
            detail[key], hit = _redacted(value, extra)
            changed += hit
    if changed:
        event.detail = detail  # a new dict: the JSON column notices only a replaced value
    return changed


def _redacted(text: str, extra: Sequence[detector.ExtraPattern]) -> tuple[str, int]:
    """`text` redacted, and 1 if that changed it."""
    clean = detector.redact(text, extra)
    return clean, int(clean != text)
