"""The path of one inbound message, top to bottom.

`process` runs inside ONE database transaction that the caller commits; only then does
the caller move the message at the source (done → Processed, quarantine → Quarantine).
Outgoing mail is queued in the same transaction (transactional outbox), so a crash at
any point leaves either nothing or everything, and a rerun reaches the same end state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.intake.classify import Classification, ClassifyContext, Kind, classify
from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing.parser import ParseError, parse
from mailproc.intake.replytrim import visible_reply
from mailproc.intake.sources import SourceMessage
from mailproc.intake.suggest import suggest
from mailproc.outbound import gate as notify
from mailproc.privacy.findings import scan_message
from mailproc.store import issues, messages
from mailproc.store.models import Issue, Message
from mailproc.store.threads import DbThreadLookup
from mailproc.triage import commands as triage_mail
from mailproc.triage import requests as triage_requests


@dataclass(frozen=True)
class Outcome:
    fate: Literal["done", "quarantine"]
    result: str  # new | reply | ignored | command | quarantined | duplicate | already
    reference: str | None = None
    reason: str = ""


def process(app: App, session: Session, item: SourceMessage) -> Outcome:
    """Log one source message and queue what follows from it."""
    already = messages.logged_fate(session, item.key)
    if already is not None:
        return Outcome(fate="done" if already == "done" else "quarantine", result="already")
    if item.oversize:
        limit = app.settings.intake.max_message_bytes
        return quarantine(session, item, f"message of {item.size} bytes exceeds {limit} bytes", app.clock())
    try:
        msg = parse(item.raw)
    except ParseError as exc:
        return quarantine(session, item, f"could not be parsed: {exc.reason}", app.clock())
    earlier = messages.find_message(session, msg.message_id, msg.sha256)
    if earlier is not None:
        return log_copy(app, session, item, msg, earlier)
    route = classify(msg, classify_context(app), DbThreadLookup(session, app.domain))
    if route.kind is Kind.AUTOMATIC:
        return log_automatic(app, session, item, msg, route)
    if route.kind is Kind.COMMAND:
        result = triage_mail.handle(app, session, item, msg)
        counted = "quarantined" if result.fate == "quarantine" else "command"
        return Outcome(fate=result.fate, result=counted, reference=result.reference, reason=result.reason)
    if route.kind is Kind.REPLY and route.reference:
        return thread_reply(app, session, item, msg, route.reference)
    return new_submission(app, session, item, msg, route)


def classify_context(app: App) -> ClassifyContext:
    s = app.settings
    return ClassifyContext(
        group_address=s.group.address, admins=s.triage.admins, reference_prefix=s.group.reference_prefix
    )


def new_submission(
    app: App, session: Session, item: SourceMessage, msg: Inbound, route: Classification
) -> Outcome:
    """Open an issue, acknowledge the sender and ask the administrators to triage it."""
    now = app.clock()
    s = app.settings
    suggestion = suggest(f"{msg.subject}\n{msg.text}", s.areas, s.source_kinds)
    issue = issues.create_issue(
        session, msg, s.group.reference_prefix, now, suggestion.area, suggestion.source_kind
    )
    row = log(app, session, item, msg, "new", issue, route.reason)
    issue.pid_detected = row.detail.get("pid_findings", 0) != 0
    issues.add_event(session, issue, msg.from_address, msg.message_id, "submitted", now,
                     suggested_area=suggestion.area, source_kind=suggestion.source_kind)  # fmt: skip
    withheld = ack_withheld(app, msg, route)
    if not withheld and notify.send(session, app, issue, acknowledgement(msg), {"message": row}) is None:
        withheld = "daily limit of automatic replies to this address reached"
    if withheld:
        issues.add_event(session, issue, "mailproc", msg.message_id, "ack-withheld", now, reason=withheld)
    if not app.backlog:
        triage_requests.request_triage(app, session, issue, row)
    return Outcome(fate="done", result="new", reference=issue.reference)


def ack_withheld(app: App, msg: Inbound, route: Classification) -> str:
    """Why this submission gets no acknowledgement ("" when it gets one)."""
    if app.backlog:
        return "imported from the mailbox's backlog (poll --backlog)"
    if not msg.sender_trusted:
        return "sender address could not be trusted"
    if route.suppress_ack:
        return f"sender asked for no automatic replies ({route.reason})"
    if not app.settings.outbound.acknowledge:
        return "acknowledgements are switched off (outbound.acknowledge = false)"
    return ""


def acknowledgement(msg: Inbound) -> notify.Outgoing:
    return notify.Outgoing(
        template="acknowledgement",
        to=(msg.from_address,),
        purpose="ack",
        unique=msg.message_id,
        in_reply_to=msg.message_id,
        references=(*msg.references, msg.message_id),
        auto="auto-replied",
        rate_limited=True,
    )


def thread_reply(app: App, session: Session, item: SourceMessage, msg: Inbound, ref: str) -> Outcome:
    """Add a reply to its issue; new information re-opens triage and tells the admins."""
    issue = session.scalars(select(Issue).where(Issue.reference == ref)).one()
    row = log(app, session, item, msg, "reply", issue, "reply to a known issue")
    now = app.clock()
    issues.add_event(session, issue, msg.from_address, msg.message_id, "reply", now)
    if issue.status == "info-requested":
        issue.status = "awaiting-triage"
        issues.add_event(session, issue, "mailproc", msg.message_id, "status", now,
                         status="awaiting-triage", reason="submitter replied")  # fmt: skip
    if row.detail.get("pid_findings"):
        issue.pid_detected = True
    if not app.backlog:
        triage_requests.notify_update(app, session, issue, row)
    return Outcome(fate="done", result="reply", reference=issue.reference)


def log_copy(app: App, session: Session, item: SourceMessage, msg: Inbound, earlier: Message) -> Outcome:
    """A second copy of a logged email (another route, a redelivery): nothing is sent and
    no issue opened; a copy whose bytes differ is still kept beside the first, so that a
    sender who reuses Message-IDs loses nothing."""
    if earlier.sha256 != msg.sha256:
        copy = log(app, session, item, msg, "copy", earlier.issue, f"copy of message {earlier.id}")
        copy.detail = {**copy.detail, "copy_of": earlier.id}
    return Outcome(fate="done", result="duplicate", reason="already logged (same Message-ID)")


def log_automatic(
    app: App, session: Session, item: SourceMessage, msg: Inbound, route: Classification
) -> Outcome:
    """Machine mail is kept with its classification; it is never answered."""
    log(app, session, item, msg, "automatic", None, route.reason)
    return Outcome(fate="done", result="ignored", reason=route.reason)


def log(
    app: App, session: Session, item: SourceMessage, msg: Inbound, kind: str, issue: Issue | None, reason: str
) -> Message:
    """Store the message (raw bytes, trimmed text, patient-identifier findings)."""
    visible = visible_reply(msg.text)
    entry = messages.LogEntry(kind=kind, visible_text=visible, redacted_text="", detail={"route": reason})
    row = messages.log_message(session, msg, item.raw, item.key, entry, issue, now=app.clock())
    scan_message(app, session, row, msg)
    return row


def quarantine(session: Session, item: SourceMessage, reason: str, now: datetime) -> Outcome:
    messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=now)
    return Outcome(fate="quarantine", result="quarantined", reason=reason)
