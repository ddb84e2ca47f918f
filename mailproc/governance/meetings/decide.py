"""Applying a meeting's decisions (from the reply to its agenda, or `meeting decide`).

Every decision of one reply is applied in one savepoint: the first that cannot be applied
rolls back all of them, the emails they queued included. Each issue decision is an ordinary
triage command (its events, its emails); it is also stored on the meeting's item for that
issue (discussion, decision, action owner, due date), which is what the minutes show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.meetings.decisions import Decisions, IssueDecision, ItemNote
from mailproc.outbound import outbox
from mailproc.outbound.catalogue import DecisionView as DecisionDone
from mailproc.store import meetings as store
from mailproc.store.issues import add_event
from mailproc.store.models import Issue, Meeting, MeetingItem, OutboxMessage
from mailproc.timefmt import local
from mailproc.triage.apply import Actor, TriageRefused, apply_commands
from mailproc.triage.grammar import CommandError
from mailproc.triage.outgoing import due_at
from mailproc.vocabulary import FINAL_STATUSES, MeetingStatus

DECISION_EVENT = "meeting-decision"


@dataclass(frozen=True)
class DecisionsApplied:
    decisions: tuple[DecisionDone, ...]
    mail: tuple[str, ...]  # "outcome: a@example, b@example", one line per kind of email


def apply_decisions(
    app: App, session: Session, meeting: Meeting, decisions: Decisions, actor: Actor
) -> DecisionsApplied:
    """Apply every decision or none: raises CommandError or TriageRefused (naming the line)
    after rolling back."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise CommandError(None, "", f"meeting {meeting.id} was cancelled", "Nothing can be decided at it.")
    savepoint = session.begin_nested()
    try:
        with outbox.recording(session) as queued:
            done = _apply_all(app, session, meeting, decisions, actor)
        mail = _mail_lines(app, session, queued)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return DecisionsApplied(tuple(done), mail)


def _apply_all(
    app: App, session: Session, meeting: Meeting, decisions: Decisions, actor: Actor
) -> list[DecisionDone]:
    done: list[DecisionDone] = []
    if decisions.attendees is not None:
        meeting.attendees = list(decisions.attendees)
        done.append(DecisionDone(0, "Attendees", ", ".join(decisions.attendees)))
    if decisions.apologies is not None:
        meeting.apologies = list(decisions.apologies)
        done.append(DecisionDone(0, "Apologies", ", ".join(decisions.apologies)))
    done.extend(_decide_issue(app, session, meeting, d, actor) for d in decisions.issues)
    done.extend(_note_item(session, meeting, note) for note in decisions.items)
    if meeting.status == MeetingStatus.PLANNED:
        meeting.status = MeetingStatus.HELD
    meeting.updated_at = app.clock()
    session.flush()
    return done


def _decide_issue(
    app: App, session: Session, meeting: Meeting, decision: IssueDecision, actor: Actor
) -> DecisionDone:
    cmd = decision.command
    issue = session.scalar(select(Issue).where(Issue.reference == decision.reference))
    if issue is None:
        raise TriageRefused(cmd, f"there is no issue {decision.reference}")
    if _already_decided(session, meeting, issue, cmd.keyword, cmd.text):
        # A second decisions reply that repeats this one (a corrected reply, a resend) must
        # not fail as a whole because the issue is closed: the same decision is a no-op.
        return DecisionDone(
            cmd.line_no, issue.reference, "already decided at this meeting; not applied again"
        )
    [applied] = apply_commands(app, session, issue, [cmd], actor)
    item, on_agenda = store.decision_item(session, meeting, issue, app.clock())
    _record(app, item, issue, cmd.keyword, cmd.text, applied.summary)
    add_event(session, issue, actor.address, actor.via, DECISION_EVENT, app.clock(),
              meeting=meeting.id, keyword=cmd.keyword, line=cmd.line_no)  # fmt: skip
    note = "" if on_agenda else f"not on the agenda of MTG-{meeting.id}; added to its minutes"
    return DecisionDone(cmd.line_no, issue.reference, applied.summary, note)


def _already_decided(session: Session, meeting: Meeting, issue: Issue, keyword: str, text: str) -> bool:
    if keyword != "CLOSE" or issue.status not in FINAL_STATUSES:
        return False
    decided = session.scalar(
        select(MeetingItem.decision).where(
            MeetingItem.meeting_id == meeting.id, MeetingItem.issue_id == issue.id
        )
    )
    return decided == _closed(text)


def _closed(text: str) -> str:
    return f"Closed. Outcome: {text}"


def _record(app: App, item: MeetingItem, issue: Issue, keyword: str, text: str, summary: str) -> None:
    """What the minutes show for the issue: NOTE is discussion, anything else a decision."""
    if keyword == "NOTE":
        item.discussion = _joined(item.discussion, text)
        return
    item.decision = _closed(text) if keyword == "CLOSE" else summary[:1].upper() + summary[1:]
    if keyword == "DELEGATE":
        group = app.settings.groups.get(issue.delegated_to or "")
        item.action_owner = group.name if group else issue.delegated_to
        item.due_date = issue.due_date


def _note_item(session: Session, meeting: Meeting, note: ItemNote) -> DecisionDone:
    item = store.item_at(session, meeting, note.number)
    if item is None:
        numbers = ", ".join(str(n) for n in store.item_numbers(meeting)) or "none"
        raise CommandError(
            note.line_no, note.line, f"meeting {meeting.id} has no item {note.number}",
            f"Its items (not issues) are numbered: {numbers}.",
        )  # fmt: skip
    item.discussion = _joined(item.discussion, note.text)
    return DecisionDone(note.line_no, f"Item {note.number}", "note added")


def _joined(before: str | None, text: str) -> str:
    return f"{before}\n{text}" if before else text


def _mail_lines(app: App, session: Session, queued: list[OutboxMessage]) -> tuple[str, ...]:
    """Who gets which email and when, by template: what the confirmation tells the
    administrator ("outcome: a@…, b@… at 03 Mar 2026 14:25 (held until then; UNDO on the
    issue stops it)"), so that held list mail is never a surprise."""
    now, tz = app.clock(), app.settings.group.timezone
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in queued:
        session.refresh(row, ["recipients"])
        due = due_at(row)
        when = ""
        if due > now:
            when = f" at {local(due, tz, '%d %b %Y %H:%M %Z')} (held until then; UNDO on the issue stops it)"
        grouped.setdefault((row.template, when), []).extend(r.address for r in row.recipients)
    lines = (f"{template}: {', '.join(sorted(set(to)))}{when}" for (template, when), to in grouped.items())
    return tuple(lines)
