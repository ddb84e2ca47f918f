"""Asking the administrators to triage: the triage request and updates on new information."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.outbound import catalogue, gate
from mailproc.store.issues import add_event
from mailproc.store.models import Issue, Message
from mailproc.triage.grammar import CHEAT_SHEET
from mailproc.triage.similar import similar_ids
from mailproc.triage.tokens import make_token
from mailproc.vocabulary import OPEN_STATUSES, TRIAGE_HELD_EVENT, MessageKind

SUMMARY_LINES = 40


def token_for(app: App, issue: Issue, admin: str) -> str:
    return make_token(app.settings.triage.secret, issue.reference, admin, app.clock())


def request_triage(app: App, session: Session, issue: Issue, message: Message) -> None:
    """One triage request per administrator, each carrying that administrator's token."""
    if _held_for_flood(app, session, issue, message, "triage request"):
        return
    group, view, summary = _views(app, session, issue, message)
    related = tuple(catalogue.issue_ref(other) for other in related_issues(session, issue))
    for admin in app.settings.triage.admins:
        token = token_for(app, issue, admin)
        email = catalogue.triage_request(group, view, summary, admin, token, related, CHEAT_SHEET)
        gate.send(session, app, email)


def notify_update(app: App, session: Session, issue: Issue, message: Message) -> None:
    """New information on an issue: a short update on the triage thread."""
    if _held_for_flood(app, session, issue, message, "triage update"):
        return
    group, view, summary = _views(app, session, issue, message)
    for admin in app.settings.triage.admins:
        token = token_for(app, issue, admin)
        gate.send(session, app, catalogue.triage_update(group, view, summary, admin, token, CHEAT_SHEET))


def _held_for_flood(app: App, session: Session, issue: Issue, message: Message, what: str) -> bool:
    """Past `triage.requests_per_sender_per_day` messages from one sender in a day, no more
    triage mail for them: the issue and the message are logged as ever, and the daily digest
    lists them (a flood from one sender must not flood the administrators)."""
    cap = app.settings.triage.requests_per_sender_per_day
    sender = message.from_address
    if cap == 0 or not sender:
        return False
    since = app.clock() - timedelta(days=1)
    recent = select(func.count()).where(
        Message.from_address == sender,
        Message.received_at >= since,
        Message.kind.in_((MessageKind.NEW, MessageKind.REPLY)),
    )
    if (session.scalar(recent) or 0) <= cap:
        return False
    reason = (
        f"{what} held: more than {cap} emails from this sender in a day (triage.requests_per_sender_per_day)"
    )
    add_event(session, issue, sender, message.message_id, TRIAGE_HELD_EVENT, app.clock(), reason=reason)
    return True


def _views(
    app: App, session: Session, issue: Issue, message: Message
) -> tuple[catalogue.GroupView, catalogue.IssueView, catalogue.MessageView]:
    group = catalogue.group_view(app.settings)
    return group, catalogue.issue_view(session, issue), catalogue.message_view(session, message)


def related_issues(session: Session, issue: Issue, limit: int = 5) -> list[Issue]:
    """Open issues from the same sender or with a similar subject (at most `limit`)."""
    open_others = select(Issue.id).where(Issue.id != issue.id, Issue.status.in_(OPEN_STATUSES))
    ids: list[int] = []
    if issue.submitter_email:
        same = open_others.where(Issue.submitter_email == issue.submitter_email)
        ids += session.scalars(same.order_by(Issue.id.desc()).limit(limit))
    if len(ids) < limit:
        ids += _similar_subjects(session, issue, limit - len(ids), exclude=set(ids))
    if not ids:
        return []
    return list(session.scalars(select(Issue).where(Issue.id.in_(ids)).order_by(Issue.id.desc())))


def _similar_subjects(session: Session, issue: Issue, limit: int, exclude: set[int]) -> list[int]:
    """Ids of recent open issues whose subject is similar (the index on issues (status, id)
    serves the query)."""
    recent = (
        select(Issue.id, Issue.subject)
        .where(Issue.id != issue.id, Issue.status.in_(OPEN_STATUSES))
        .order_by(Issue.id.desc())
        .limit(500)
    )
    rows = ((other_id, subject) for other_id, subject in session.execute(recent))
    return similar_ids(issue.subject, rows, limit, exclude)
