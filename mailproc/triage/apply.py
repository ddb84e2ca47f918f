"""Applying validated triage commands to an issue: state, audit events and the emails that follow.

All the commands of one email (or one CLI call) are applied inside a savepoint: the first
refusal rolls every one of them back, queued emails included, so nothing is half-applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.governance import meetings
from mailproc.outbound import catalogue, gate, outbox
from mailproc.privacy import detector
from mailproc.store import meetings as meeting_store
from mailproc.store.issues import add_event
from mailproc.store.models import Event, Issue
from mailproc.triage import outgoing, publication, undo
from mailproc.triage.grammar import WITH_TEXT, Command, is_iso_date
from mailproc.vocabulary import FINAL_STATUSES, TRIAGE_STATUSES, IssueStatus

# A closed issue is typically published afterwards, under the words its outcome suggests.
ALLOWED_WHEN_FINAL = frozenset({"NOTE", "UNDO", "TITLE", "PUBLISH", "UNPUBLISH"})
SNAPSHOT_FIELDS = (
    "status", "area", "priority", "meeting_id", "delegated_to", "due_date", "outcome",
    "duplicate_of_id", "title", "public_summary", "published_at",
)  # fmt: skip
# Commands whose text leaves the core (to the submitter, lists, groups or the register): the
# confirmation shows it as it will go, redacted.
SENT_TEXT = frozenset({"INFO", "DECLINE", "CLOSE", "ESCALATE", "PUBLISH"})
UNDO_WINDOW = timedelta(hours=24)
DEFAULT_DELEGATION_DAYS = 28
# A catalogue function writing one email about an issue that a command caused.
EmailFor = Callable[[catalogue.GroupView, catalogue.IssueView, catalogue.CommandView], catalogue.Email]


@dataclass(frozen=True)
class Actor:
    """Who commands, and how: an email's Message-ID, or "cli:<time>" (unique per call,
    because the Message-IDs of the emails a command causes are derived from it)."""

    address: str
    via: str


class TriageRefused(MailprocError):
    """A command that is valid in form but cannot be applied to this issue now."""

    def __init__(self, command: Command, reason: str) -> None:
        self.command = command
        self.reason = reason
        where = f"Line {command.line_no} ({command.line.strip()!r})" if command.line else ""
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class Applied:
    """One applied command: what it did, the text that goes out (redacted, "" for none) and
    the emails it queued, each with its recipients and when it goes."""

    command: Command
    summary: str
    sent_text: str = ""
    outgoing: tuple[str, ...] = ()


def apply_commands(
    app: App, session: Session, issue: Issue, commands: Sequence[Command], actor: Actor
) -> list[Applied]:
    """Apply every command or none (raises TriageRefused after rolling back)."""
    savepoint = session.begin_nested()
    try:
        results = [_apply_one(app, session, issue, cmd, actor) for cmd in commands]
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return results


def _apply_one(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> Applied:
    if issue.status in FINAL_STATUSES and cmd.keyword not in ALLOWED_WHEN_FINAL:
        raise TriageRefused(
            cmd,
            f"{issue.reference} is {issue.status}; only NOTE, TITLE, PUBLISH, UNPUBLISH "
            "(or UNDO within 24 hours) apply",
        )
    if cmd.keyword == "UNDO":
        return Applied(cmd, _undo(app, session, issue, cmd, actor))
    before = snapshot(issue)
    with outbox.recording(session) as queued:
        summary = HANDLERS[cmd.keyword](app, session, issue, cmd, actor)
    after = snapshot(issue)
    # Only the fields this command changed, and what it left them at: UNDO restores them only
    # if nobody changed them since. The emails it queued: UNDO cancels those still waiting.
    changed = {name: value for name, value in before.items() if after[name] != value}
    add_event(
        session, issue, actor.address, actor.via, "command", app.clock(),
        keyword=cmd.keyword, args=list(cmd.args), text=cmd.text, before=changed,
        after={name: after[name] for name in changed}, emails=[row.id for row in queued],
    )  # fmt: skip
    session.flush()
    sent = detector.redact(cmd.text, app.settings.privacy.patterns) if cmd.keyword in SENT_TEXT else ""
    mail = outgoing.describe(queued, issue, app.clock(), app.settings.group.timezone)
    return Applied(cmd, summary, sent, mail)


def snapshot(issue: Issue) -> dict[str, Any]:
    values = {name: getattr(issue, name) for name in SNAPSHOT_FIELDS}
    values["due_date"] = issue.due_date.isoformat() if issue.due_date else None
    values["published_at"] = issue.published_at.isoformat() if issue.published_at else None
    return values


def _restore(issue: Issue, values: dict[str, Any]) -> None:
    for name in SNAPSHOT_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name == "due_date" and value:
            value = date.fromisoformat(str(value))
        if name == "published_at" and value:
            value = datetime.fromisoformat(str(value))
        setattr(issue, name, value)


def _accept(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    if issue.status not in TRIAGE_STATUSES:
        raise TriageRefused(cmd, f"{issue.reference} is already {issue.status}")
    issue.status = IssueStatus.ACCEPTED
    if cmd.args:
        issue.area = cmd.args[0]
    _mail_submitter(app, session, issue, cmd, actor, catalogue.progress_accepted)
    return f"accepted{f' (area {issue.area})' if cmd.args else ''}"


def _area(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    issue.area = cmd.args[0]
    return f"area set to {issue.area}"


def _meeting(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    when = date.fromisoformat(cmd.args[0])
    try:
        # The meeting of the issue's theme that day, else the only one that day, else a new one.
        meeting, created = meeting_store.meeting_for_issue(
            session, when, issue.area or "", meetings.defaults(app), app.clock()
        )
        meeting_store.schedule_issue(session, issue, meeting, app.clock())
    except meeting_store.MeetingError as exc:
        raise TriageRefused(cmd, str(exc)) from None
    if issue.status in (*TRIAGE_STATUSES, IssueStatus.ACCEPTED):
        issue.status = IssueStatus.SCHEDULED
    _mail_submitter(
        app, session, issue, cmd, actor, lambda g, i, c: catalogue.progress_scheduled(g, i, c, when)
    )
    theme = f" ({meeting.theme})" if meeting.theme else ""
    return f"scheduled for the meeting of {when:%d %B %Y}{theme}" + (" (meeting created)" if created else "")


def _info(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    _require_submitter(issue, cmd)
    issue.status = IssueStatus.INFO_REQUESTED
    _mail_submitter(app, session, issue, cmd, actor, catalogue.info_request)
    return "information requested from the submitter"


def _decline(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    issue.status = IssueStatus.DECLINED
    issue.outcome = cmd.text
    sent = _mail_submitter(app, session, issue, cmd, actor, catalogue.declined)
    return "declined" + ("; the submitter was told why" if sent else "")


def _delegate(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    group = app.settings.groups[cmd.args[0]]
    due = next((date.fromisoformat(a) for a in cmd.args[1:] if is_iso_date(a)), None)
    with_text = WITH_TEXT in cmd.args
    issue.due_date = due or (app.today() + timedelta(days=DEFAULT_DELEGATION_DAYS))
    issue.delegated_to = group.key
    issue.status = IssueStatus.DELEGATED
    _mail(app, session, issue, cmd, actor, lambda g, i, c: catalogue.delegation(g, i, c, group, with_text))
    _mail_submitter(
        app, session, issue, cmd, actor, lambda g, i, c: catalogue.progress_delegated(g, i, c, group.name)
    )
    forwarded = "; the submitter's text goes with it, redacted" if with_text else ""
    return f"delegated to {group.name}, due {issue.due_date:%d %B %Y}{forwarded}"


def _escalate(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    route = app.settings.escalation
    if route is None or not route.contact:
        raise TriageRefused(cmd, "no escalation route is configured ([escalation] in the config)")
    issue.status = IssueStatus.ESCALATED
    _mail(app, session, issue, cmd, actor, lambda g, i, c: catalogue.escalation(g, i, c, route))
    return f"escalated to {route.name}"


def _duplicate(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    target = session.scalar(select(Issue).where(Issue.reference == cmd.args[0]))
    if target is None:
        raise TriageRefused(cmd, f"there is no issue {cmd.args[0]}")
    if target.id == issue.id:
        raise TriageRefused(cmd, "an issue cannot be a duplicate of itself")
    issue.duplicate_of_id = target.id
    issue.status = IssueStatus.DUPLICATE
    ref = catalogue.issue_ref(target)
    _mail_submitter(app, session, issue, cmd, actor, lambda g, i, c: catalogue.duplicate(g, i, c, ref))
    return f"marked as a duplicate of {target.reference}"


def _close(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    issue.status = IssueStatus.CLOSED
    issue.outcome = cmd.text
    told = _mail_submitter(app, session, issue, cmd, actor, catalogue.outcome_to_submitter)
    lists = outcome_recipients(app, issue.area or "", exclude=issue.submitter_email or "")
    for address, mailing_list in lists:
        _mail_list_member(app, session, issue, cmd, actor, address, mailing_list)
    whom = "the submitter and " if told else ""
    return f"closed; the outcome goes to {whom}{len(lists)} list address(es)"


def _mail_list_member(
    app: App,
    session: Session,
    issue: Issue,
    cmd: Command,
    actor: Actor,
    address: str,
    view: catalogue.ListView,
) -> None:
    """The outcome to one list address (a function of its own: a lambda in the caller's loop
    would see only the loop's last address)."""

    def write(g: catalogue.GroupView, i: catalogue.IssueView, c: catalogue.CommandView) -> catalogue.Email:
        return catalogue.outcome_to_list_member(g, i, c, address, view)

    _mail(app, session, issue, cmd, actor, write)


def _note(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    return "note added"


def _priority(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    issue.priority = cmd.args[0].lower()
    return f"priority set to {issue.priority}"


def _undo(app: App, session: Session, issue: Issue, cmd: Command, actor: Actor) -> str:
    """Take back the actor's last command, unless something changed or went out since."""
    last = _last_undoable(app, session, issue, actor)
    if last is None:
        raise TriageRefused(cmd, f"you have no command on {issue.reference} to undo from the last 24 hours")
    keyword, tz = str(last.detail.get("keyword")), app.settings.group.timezone
    try:
        plan = undo.plan(session, issue, last, snapshot(issue), tz)
        cancelled, gone = undo.cancel_waiting(session, plan, issue, tz)
    except undo.Blocked as exc:
        raise TriageRefused(cmd, f"cannot undo {keyword}: {exc}") from None
    before = last.detail.get("before")
    restored = before if isinstance(before, dict) else {}
    _restore(issue, restored)
    if "meeting_id" in restored:
        session.flush()
        meeting_store.follow_issue(session, issue, app.clock())  # the agenda item goes too
    add_event(session, issue, actor.address, actor.via, "undo", app.clock(), undid=last.id,
              restored=restored, cancelled=[row.id for row in plan.cancel if row not in gone])  # fmt: skip
    return undo.summary(keyword, cancelled, gone, issue, tz)


def _last_undoable(app: App, session: Session, issue: Issue, actor: Actor) -> Event | None:
    """The actor's latest command on `issue` within the undo window that is not undone yet."""
    undone = {
        e.detail.get("undid")
        for e in session.scalars(select(Event).where(Event.issue_id == issue.id, Event.action == "undo"))
    }
    candidates = session.scalars(
        select(Event)
        .where(Event.issue_id == issue.id, Event.action == "command", Event.actor == actor.address)
        .where(Event.at >= app.clock() - UNDO_WINDOW)
        .order_by(Event.id.desc())
    )
    return next((e for e in candidates if e.id not in undone), None)


def outcome_recipients(app: App, area: str, exclude: str = "") -> tuple[tuple[str, catalogue.ListView], ...]:
    """Every address of the lists for the outcomes of `area`'s issues (`[distribution.by_area]`,
    else `distribution.outcomes`) once, each with the first of its lists, which names it."""
    s = app.settings
    keys = s.outcomes_by_area[area] if area in s.outcomes_by_area else s.distribution["outcomes"]
    domain = s.group.address.rpartition("@")[2]
    found: dict[str, catalogue.ListView] = {}
    for key in keys:
        if key == "members":
            view, addresses = (
                catalogue.ListView(key, f"{s.group.name} members", domain),
                [m.email for m in s.members],
            )
        else:
            view, addresses = catalogue.ListView(key, s.lists[key].name, domain), list(s.lists[key].addresses)
        for address in addresses:
            if address:
                found.setdefault(address.lower(), view)
    found.pop(exclude.lower(), None)
    return tuple(found.items())


def outcome_addresses(app: App, area: str = "", exclude: str = "") -> tuple[str, ...]:
    """The addresses alone of `outcome_recipients`."""
    return tuple(address for address, _ in outcome_recipients(app, area, exclude))


def _require_submitter(issue: Issue, cmd: Command) -> None:
    if not issue.submitter_email:
        raise TriageRefused(cmd, "the submitter's address could not be trusted, so they cannot be emailed")


def _mail_submitter(
    app: App, session: Session, issue: Issue, cmd: Command, actor: Actor, write: EmailFor
) -> bool:
    """Email the submitter; whether it was queued (False without a trusted address)."""
    if not issue.submitter_email:
        return False
    return _mail(app, session, issue, cmd, actor, write).queued


def _mail(
    app: App, session: Session, issue: Issue, cmd: Command, actor: Actor, write: EmailFor
) -> gate.SendResult:
    """Queue the email `write` makes about `issue` as it stands after the command."""
    command = catalogue.CommandView(keyword=cmd.keyword, text=cmd.text, line_no=cmd.line_no, via=actor.via)
    view = catalogue.issue_view(session, issue)
    return gate.send(session, app, write(catalogue.group_view(app.settings), view, command))


def _publish(app: App, session: Session, issue: Issue, cmd: Command) -> str:
    found = publication.identifiers_in(app, cmd.text)
    if found:
        # The register is public: a summary is the administrator's words, so it is refused
        # whole (naming what was seen, never the value) rather than published redacted.
        raise TriageRefused(
            cmd, f"the public summary seems to contain {', '.join(found)}; nothing was published, "
            "please send PUBLISH again with a summary that names no patient",
        )
    return publication.publish(app, session, issue, cmd)


Handler = Callable[[App, Session, Issue, Command, Actor], str]
HANDLERS: dict[str, Handler] = {
    "ACCEPT": _accept, "AREA": _area, "MEETING": _meeting, "INFO": _info, "DECLINE": _decline,
    "DELEGATE": _delegate, "ESCALATE": _escalate, "DUPLICATE": _duplicate, "CLOSE": _close,
    "NOTE": _note, "PRIORITY": _priority,
    "TITLE": lambda app, session, issue, cmd, _actor: publication.set_title(app, session, issue, cmd),
    "PUBLISH": lambda app, session, issue, cmd, _actor: _publish(app, session, issue, cmd),
    "UNPUBLISH": lambda app, session, issue, cmd, _actor: publication.unpublish(app, session, issue, cmd),
}  # fmt: skip
