"""The path of one inbound message, top to bottom. Every step is listed here and only here.

Messages come in chunks of up to `intake.batch_size` (intake/chunks.py), and steps 1 and 2
are taken for a whole chunk at once; a chunk holding a message that was tried before (a
crash, a failure) goes one message at a time instead, so a message that kills the process
is still counted alone and quarantined.

1. Count the attempt, committed before anything else, so that a message that kills the
   process is counted too; past `intake.max_attempts` it is quarantined with its last error.
2. In ONE database transaction (one per chunk), under a SAVEPOINT of its own, so that a
   message that fails (an exception, its time budget, another poller logging it first)
   rolls back its own work and none of its neighbours': already handled? too large? parse;
   a copy of a logged email? classify; then one of five paths (machine mail, a reply to a
   meeting's agenda, an administrator's command, a reply to an issue, a new submission).
   Outgoing mail is queued in the same transaction (transactional outbox), so a crash at
   any point leaves either nothing or everything. Its attempts are cleared in that commit.
3. Only after the commit, the move at the source (intake/moves.py): Quarantine at once with
   the reason; Processed in batches, one command for many messages. A message logged but not
   yet moved (a crash, a failed move) is found logged on the next pass and moved then.

A database or disk failure is not the message's fault: it is not counted as an attempt, never
quarantines the message, and stops the pass (`StorageUnavailable`) with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.errors import StorageUnavailable
from mailproc.governance import actions
from mailproc.governance.meetings import reply as meeting_mail
from mailproc.intake.budget import BudgetExceeded, message_budget
from mailproc.intake.classify import Classification, ClassifyContext, Kind, classify
from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing.parser import ParseError, parse
from mailproc.intake.replytrim import visible_reply
from mailproc.intake.sources import SourceMessage
from mailproc.intake.subjects import fallback_subject
from mailproc.intake.suggest import suggest
from mailproc.outbound import catalogue
from mailproc.outbound import gate as notify
from mailproc.privacy.findings import scan_message
from mailproc.store import attempts, issues, messages
from mailproc.store.db import transaction
from mailproc.store.models import Issue, Message
from mailproc.store.threads import DbThreadLookup
from mailproc.triage import commands as triage_mail
from mailproc.triage import requests as triage_requests
from mailproc.vocabulary import IssueStatus, MessageKind

log = logging.getLogger(__name__)

Result = Literal["new", "reply", "ignored", "command", "quarantined", "duplicate", "already"]


@dataclass(frozen=True)
class Outcome:
    fate: Literal["done", "quarantine"]
    result: Result
    reference: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class PassOptions:
    # Importing an existing mailbox (`poll --backlog`): log everything, but send nothing
    # and apply no command: months-old mail must not answer anyone or change an issue.
    backlog: bool = False


LIVE = PassOptions()  # an ordinary pass


def handle(app: App, item: SourceMessage, options: PassOptions) -> Outcome | None:
    """One message in a transaction of its own (step 1, then 2 for it alone): its committed end
    state (the caller moves it at the source); None when it failed and will be retried."""
    tries = _count_attempt(app, item)
    if tries > app.settings.intake.max_attempts:
        return give_up(app, item, tries - 1)
    return in_one_transaction(app, [item], options, {item.key: tries})[0]


def _count_attempt(app: App, item: SourceMessage) -> int:
    try:
        return attempts.bump_attempt(app.factory, item.key, app.clock())
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable(storage_reason(exc)) from exc


def in_one_transaction(
    app: App, items: Sequence[SourceMessage], options: PassOptions, tries: Mapping[str, int]
) -> list[Outcome | None]:
    """Step 2 for messages whose attempts are counted (`tries`): one transaction, a savepoint
    per message, so one that fails rolls back its own work and none of its neighbours'."""
    try:
        with transaction(app.factory) as session:
            outcomes = [_under_savepoint(app, session, item, options, tries[item.key]) for item in items]
            ended = [item.key for item, outcome in zip(items, outcomes, strict=True) if outcome is not None]
            attempts.clear_attempts(session, ended)  # in the same commit as the outcomes
    except STORAGE_ERRORS as exc:
        _forgive(app, items)
        raise StorageUnavailable(storage_reason(exc)) from exc
    return outcomes


def _under_savepoint(
    app: App, session: Session, item: SourceMessage, options: PassOptions, tries: int
) -> Outcome | None:
    try:
        # The budget ends before the savepoint is released, so an expiry always rolls back
        # all of this message's work.
        with session.begin_nested(), message_budget(app.settings.intake.message_budget_seconds):
            return route(app, session, item, options)
    except BudgetExceeded as exc:
        return over_budget(app, session, item, str(exc))
    except IntegrityError:
        # Another poller logged the same message first: its row decides the fate.
        fate = messages.logged_fate(session, item.key)
        if fate is not None:
            return Outcome(fate=fate, result="already")
        log.exception("message %s: database conflict; will retry", item.key)
        attempts.note_failure(session, item.key, "database conflict")
    except STORAGE_ERRORS:
        raise  # not the message's fault: the whole transaction goes
    except Exception as exc:  # one bad message must never stop the messages behind it
        limit = app.settings.intake.max_attempts
        log.exception("message %s: processing failed (attempt %d of %d)", item.key, tries, limit)
        attempts.note_failure(session, item.key, f"{type(exc).__name__}: {exc}")
    return None


# A failure of the database or the disk, not of the message. (IntegrityError, a DBAPIError
# too, is handled before these: it means another poller got there first.)
STORAGE_ERRORS = (DBAPIError, OSError)


def storage_reason(exc: BaseException) -> str:
    # The first failure is the reason: SQLite ends the transaction itself on a full disk, and
    # the rollback of the savepoint then fails too ("no such savepoint").
    while isinstance(exc.__context__, STORAGE_ERRORS):
        exc = exc.__context__
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"the database (or the disk under it) failed, so the pass stopped: {first}"


def _forgive(app: App, items: Sequence[SourceMessage]) -> None:
    """Take back the attempts counted for messages the storage failed; best effort, because
    the storage may still be failing (then the counts stand, one per failed pass)."""
    try:
        attempts.forgive_attempts(app.factory, [item.key for item in items])
    except STORAGE_ERRORS:
        log.debug("could not take back the attempts from %s on", items[0].key, exc_info=True)


def route(app: App, session: Session, item: SourceMessage, options: PassOptions) -> Outcome:
    """Log one source message and queue what follows from it, inside the caller's transaction."""
    already = messages.logged_fate(session, item.key)
    if already is not None:
        return Outcome(fate=already, result="already")
    if item.oversize:
        limit = app.settings.intake.max_message_bytes
        return quarantine(session, item, f"message of {item.size} bytes exceeds {limit} bytes", app.clock())
    try:
        msg = parse(item.raw)
    except ParseError as exc:
        return quarantine(session, item, f"could not be parsed: {exc.reason}", app.clock())
    earlier = messages.find_message(session, msg)
    if earlier is not None:
        return log_copy(app, session, item, msg, earlier)
    path = classify(msg, classify_context(app), DbThreadLookup(session, app.domain))
    if path.kind is Kind.AUTOMATIC:
        return log_automatic(app, session, item, msg, path)
    tag = meeting_mail.meeting_tag_in(msg.subject)
    if tag is not None:
        return meeting_reply(app, session, item, msg, tag, options)
    if path.kind is Kind.COMMAND:
        return command(app, session, item, msg, options)
    if path.kind is Kind.REPLY and path.reference:
        return thread_reply(app, session, item, msg, path, options)
    return new_submission(app, session, item, msg, path, options)


def classify_context(app: App) -> ClassifyContext:
    s = app.settings
    return ClassifyContext(
        group_address=s.group.address, admins=s.triage.admins, reference_prefix=s.group.reference_prefix
    )


def new_submission(
    app: App, session: Session, item: SourceMessage, msg: Inbound, route: Classification, options: PassOptions
) -> Outcome:
    """Open an issue, acknowledge the sender and ask the administrators to triage it."""
    now = app.clock()
    s = app.settings
    suggestion = suggest(f"{msg.subject}\n{msg.text}", s.areas, s.source_kinds)
    issue = issues.create_issue(
        session, msg, s.group.reference_prefix, now, suggestion.area, suggestion.source_kind
    )
    if not msg.subject.strip():
        issue.subject = fallback_subject(msg.text, s.privacy.patterns)
    row = log_message(app, session, item, msg, MessageKind.NEW, issue, route.reason)
    issue.pid_detected = row.detail.get("pid_findings", 0) != 0
    issues.add_event(session, issue, msg.from_address, msg.message_id, "submitted", now,
                     suggested_area=suggestion.area, source_kind=suggestion.source_kind)  # fmt: skip
    withheld = ack_withheld(app, msg, route, options)
    if not withheld:
        withheld = notify.send(session, app, acknowledgement(app, session, issue, msg)).reason
    if withheld:
        issues.add_event(session, issue, "mailproc", msg.message_id, "ack-withheld", now, reason=withheld)
    if not options.backlog:
        triage_requests.request_triage(app, session, issue, row)
    return Outcome(fate="done", result="new", reference=issue.reference)


def ack_withheld(app: App, msg: Inbound, route: Classification, options: PassOptions) -> str:
    """Why this submission gets no acknowledgement ("" when it gets one)."""
    if options.backlog:
        return "imported from the mailbox's backlog (poll --backlog)"
    if not msg.sender_trusted:
        return "sender address could not be trusted"
    if route.suppress_ack:
        return f"sender asked for no automatic replies ({route.reason})"
    if not app.settings.outbound.acknowledge:
        return "acknowledgements are switched off (outbound.acknowledge = false)"
    return ""


def acknowledgement(app: App, session: Session, issue: Issue, msg: Inbound) -> catalogue.Email:
    incoming = catalogue.Incoming(msg.from_address, msg.message_id, msg.references, msg.subject)
    view = catalogue.issue_view(session, issue)
    return catalogue.acknowledgement(catalogue.group_view(app.settings), view, incoming)


def thread_reply(
    app: App, session: Session, item: SourceMessage, msg: Inbound, route: Classification, options: PassOptions
) -> Outcome:
    """Add a reply to its issue; new information re-opens triage and tells the admins."""
    issue = session.scalars(select(Issue).where(Issue.reference == route.reference)).one()
    row = log_message(app, session, item, msg, MessageKind.REPLY, issue, "reply to a known issue")
    now = app.clock()
    issues.add_event(session, issue, msg.from_address, msg.message_id, "reply", now)
    if route.command_ignored:
        why = f"{msg.from_address} is not an administrator; threaded as a reply"
        issues.add_event(session, issue, msg.from_address, msg.message_id, "command-ignored", now, reason=why)
    reply = actions.Reply(msg.from_address if msg.sender_trusted else "", msg.subject, _thread_ids(msg))
    if actions.is_group_response(app, issue, reply):
        actions.record_response(app, session, issue, reply, msg.message_id, row.visible_text)
    if issue.status == IssueStatus.INFO_REQUESTED:
        issue.status = IssueStatus.AWAITING_TRIAGE
        issues.add_event(session, issue, "mailproc", msg.message_id, "status", now,
                         status=IssueStatus.AWAITING_TRIAGE, reason="submitter replied")  # fmt: skip
    if row.detail.get("pid_findings"):
        issue.pid_detected = True
    if not options.backlog:
        triage_requests.notify_update(app, session, issue, row)
    return Outcome(fate="done", result="reply", reference=issue.reference)


def _thread_ids(msg: Inbound) -> tuple[str, ...]:
    return (*msg.references, *([msg.in_reply_to] if msg.in_reply_to else []))


def command(app: App, session: Session, item: SourceMessage, msg: Inbound, options: PassOptions) -> Outcome:
    """An administrator's command email: triage decides whether it may command the issue;
    a refusal is quarantined here, an accepted one is logged and (but for a backlog) applied."""
    verdict = triage_mail.authorise(app, session, msg)
    if verdict.issue is None or verdict.problem:
        reason = f"rejected command: {verdict.problem}"
        messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=app.clock())
        triage_mail.answer_rejection(app, session, msg, verdict)
        return Outcome(fate="quarantine", result="quarantined", reference=verdict.reference, reason=reason)
    issue = verdict.issue
    text = visible_reply(msg.first_text or msg.text)
    row = log_message(app, session, item, msg, MessageKind.COMMAND, issue, "command", visible=text)
    if options.backlog:
        issues.add_event(session, issue, msg.from_address, msg.message_id, "command-not-applied",
                         app.clock(), reason="imported from the mailbox's backlog")  # fmt: skip
        return Outcome(
            fate="done", result="command", reference=issue.reference, reason="not applied (backlog)"
        )
    summary = triage_mail.run_commands(app, session, issue, msg, row)
    return Outcome(fate="done", result="command", reference=issue.reference, reason=summary)


def meeting_reply(
    app: App, session: Session, item: SourceMessage, msg: Inbound, tag: meeting_mail.MeetingTag,
    options: PassOptions,
) -> Outcome:  # fmt: skip
    """A reply to a meeting's agenda: an administrator's decisions (authorised as a command
    is, refused ones quarantined), else a colleague's reply-all, kept and never applied."""
    verdict = meeting_mail.authorise(app, session, msg, tag)
    reference = f"MTG-{tag.meeting_id}"
    if not verdict.admin:
        why = f"reply to the agenda of {reference} from a non-administrator; nothing applied"
        row = log_message(app, session, item, msg, MessageKind.REPLY, None, why)
        if not options.backlog:
            meeting_mail.pass_on_reply(app, session, verdict.meeting, msg, row)
        return Outcome(fate="done", result="reply", reference=reference, reason=why)
    if verdict.meeting is None or verdict.problem:
        reason = f"rejected decisions: {verdict.problem}"
        messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=app.clock())
        triage_mail.answer_rejection(app, session, msg, triage_mail.Verdict(reference, None, verdict.problem))
        return Outcome(fate="quarantine", result="quarantined", reference=reference, reason=reason)
    text = visible_reply(msg.first_text or msg.text)
    row = log_message(app, session, item, msg, MessageKind.COMMAND, None, f"decisions for {reference}",
                      visible=text)  # fmt: skip
    if options.backlog:
        return Outcome(fate="done", result="command", reference=reference, reason="not applied (backlog)")
    summary = meeting_mail.run_decisions(app, session, verdict.meeting, msg, row)
    return Outcome(fate="done", result="command", reference=reference, reason=summary)


def log_copy(app: App, session: Session, item: SourceMessage, msg: Inbound, earlier: Message) -> Outcome:
    """A second copy of a logged email (another route, a redelivery): nothing is sent and
    no issue opened; a copy whose bytes differ is still kept beside the first, so that a
    sender who reuses Message-IDs loses nothing."""
    if earlier.sha256 != msg.sha256:
        copy = log_message(app, session, item, msg, MessageKind.COPY, earlier.issue, f"copy of {earlier.id}")
        copy.detail = {**copy.detail, "copy_of": earlier.id}
    return Outcome(fate="done", result="duplicate", reason="already logged (same Message-ID)")


def log_automatic(
    app: App, session: Session, item: SourceMessage, msg: Inbound, route: Classification
) -> Outcome:
    """Machine mail is kept with its classification; it is never answered."""
    log_message(app, session, item, msg, MessageKind.AUTOMATIC, None, route.reason)
    return Outcome(fate="done", result="ignored", reason=route.reason)


def log_message(
    app: App, session: Session, item: SourceMessage, msg: Inbound, kind: MessageKind, issue: Issue | None,
    reason: str, visible: str | None = None,
) -> Message:  # fmt: skip
    """Store the message (raw bytes, trimmed text, patient-identifier findings)."""
    text = visible_reply(msg.text) if visible is None else visible
    entry = messages.LogEntry(
        kind=kind, visible_text=text, redacted_text="", detail=_parsed_detail(msg, reason)
    )
    row = messages.log_message(session, msg, item.raw, item.key, entry, issue, now=app.clock())
    scan_message(app, session, row, msg)
    return row


def _parsed_detail(msg: Inbound, reason: str) -> dict[str, object]:
    """What parsing found that has no column of its own, kept for the administrator. Empty
    lists and a false flag are left out (absent means none): they were a third of the bytes."""
    detail: dict[str, object] = {
        "route": reason, "to": list(msg.to), "cc": list(msg.cc), "reply_to": list(msg.reply_to),
        "parser": msg.parser, "defects": list(msg.defects), "message_id_generated": msg.message_id_generated,
    }  # fmt: skip
    return {key: value for key, value in detail.items() if value or key in ("route", "to", "parser")}


def quarantine(session: Session, item: SourceMessage, reason: str, now: datetime) -> Outcome:
    messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=now)
    return Outcome(fate="quarantine", result="quarantined", reason=reason)


def give_up(app: App, item: SourceMessage, tries: int) -> Outcome:
    """Past `max_attempts`: quarantine with the last error, so the messages behind it go on."""
    with transaction(app.factory) as session:
        last = attempts.last_failure(session, item.key)
        reason = f"processing failed {tries} times; last error: {last}"
        messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=app.clock())
        attempts.clear_attempts(session, [item.key])
    log.error("message %s quarantined after %d failed attempts", item.key, tries)
    return Outcome(fate="quarantine", result="quarantined", reason=reason)


def over_budget(app: App, session: Session, item: SourceMessage, reason: str) -> Outcome:
    """Quarantined at once, not retried: a message that ran out of time would again.
    (Unless another poller logged it meanwhile: then its fate stands.)"""
    fate = messages.logged_fate(session, item.key)
    if fate is not None:
        return Outcome(fate=fate, result="already")
    log.error("message %s quarantined: %s", item.key, reason)
    return quarantine(session, item, reason, app.clock())
