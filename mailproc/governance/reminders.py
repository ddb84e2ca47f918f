"""`mailproc remind`: chase overdue delegations and tell administrators what is waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance import actions
from mailproc.outbound import catalogue, gate
from mailproc.store.db import transaction
from mailproc.store.issues import add_event
from mailproc.store.models import Event, Issue, Message
from mailproc.vocabulary import SPAM_ROUTE, TRIAGE_HELD_EVENT, IssueStatus, MessageKind

REMIND_EVERY = timedelta(days=7)


LISTED_SINCE = timedelta(days=1)  # the digest is daily: it lists the last day's unanswered mail


@dataclass(frozen=True)
class ReminderReport:
    delegations: int
    waiting: int
    listed: int = 0

    def line(self) -> str:
        return (
            f"{self.delegations} overdue delegation reminder(s); "
            f"{self.waiting} issue(s) waiting for triage listed for the administrators"
            + (f"; {self.listed} unanswered email(s) listed" if self.listed else "")
        )


def remind(app: App) -> ReminderReport:
    """Queue the reminders that are due (at most one a week per delegation, one digest a day)."""
    with transaction(app.factory) as session:
        chased = sum(_chase(app, session, issue) for issue in _overdue(app, session))
        waiting = _waiting(app, session)
        listed = (*_spam(app, session), *_held(app, session))
        if waiting or listed:
            _digest(app, session, waiting, listed)
    return ReminderReport(delegations=chased, waiting=len(waiting), listed=len(listed))


def _overdue(app: App, session: Session) -> list[Issue]:
    """Delegated issues past their due date whose group has not responded."""
    today = app.today()
    stmt = (
        select(Issue)
        .where(Issue.status == IssueStatus.DELEGATED, Issue.due_date < today)
        .order_by(Issue.due_date)
    )
    return [issue for issue in session.scalars(stmt) if actions.response_of(session, issue) is None]


def _chase(app: App, session: Session, issue: Issue) -> int:
    since = app.clock() - REMIND_EVERY
    recent = select(Event.id).where(Event.issue_id == issue.id, Event.action == "reminded", Event.at >= since)
    group = app.settings.groups.get(issue.delegated_to or "")
    if session.scalar(recent.limit(1)) is not None or group is None or not group.contact:
        return 0
    view = catalogue.issue_view(session, issue)
    email = catalogue.delegation_reminder(catalogue.group_view(app.settings), view, group, app.today())
    result = gate.send(session, app, email)
    if not result.queued:
        add_event(session, issue, "mailproc", "remind", "reminder-withheld", app.clock(),
                  group=group.key, reason=result.reason)  # fmt: skip
        return 0
    add_event(session, issue, "mailproc", "remind", "reminded", app.clock(), group=group.key)
    return 1


def _waiting(app: App, session: Session) -> list[Issue]:
    cutoff = app.clock() - timedelta(days=app.settings.triage.waiting_days)
    stmt = select(Issue).where(Issue.status == IssueStatus.AWAITING_TRIAGE, Issue.created_at < cutoff)
    return list(session.scalars(stmt.order_by(Issue.created_at)))


def _spam(app: App, session: Session) -> list[catalogue.ListedMail]:
    """Spam-marked mail of the last day (logged as automatic mail, never answered)."""
    stmt = select(Message).where(
        Message.kind == MessageKind.AUTOMATIC, Message.received_at >= app.clock() - LISTED_SINCE
    )
    return [
        catalogue.ListedMail(row.received_at, row.from_address, row.subject, str(row.detail.get("route")))
        for row in session.scalars(stmt.order_by(Message.received_at))
        if str(row.detail.get("route", "")).startswith(SPAM_ROUTE)
    ]


def _held(app: App, session: Session) -> list[catalogue.ListedMail]:
    """Triage requests and updates of the last day held back from a flooding sender."""
    stmt = (
        select(Event, Issue)
        .join(Issue, Event.issue_id == Issue.id)
        .where(Event.action == TRIAGE_HELD_EVENT, Event.at >= app.clock() - LISTED_SINCE)
    )
    return [
        catalogue.ListedMail(
            event.at, event.actor, issue.subject, str(event.detail.get("reason")), issue.reference
        )
        for event, issue in session.execute(stmt.order_by(Event.at))
    ]


def _digest(
    app: App, session: Session, waiting: list[Issue], listed: tuple[catalogue.ListedMail, ...]
) -> None:
    group = catalogue.group_view(app.settings)
    views = tuple(catalogue.issue_view(session, issue) for issue in waiting)
    for admin in app.settings.triage.admins:
        # One a day, however often remind runs: the day is part of the Message-ID.
        gate.send(session, app, catalogue.triage_digest(group, admin, views, app.today(), listed))
