"""Asking the administrators to triage: the triage request and updates on new information."""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.outbound import gate as notify
from mailproc.store.models import Issue, Message
from mailproc.triage.grammar import CHEAT_SHEET
from mailproc.triage.tokens import make_token
from mailproc.vocabulary import OPEN_STATUSES

SUMMARY_LINES = 40


def token_for(app: App, issue: Issue, admin: str) -> str:
    return make_token(app.settings.triage.secret, issue.reference, admin, app.clock())


def request_triage(app: App, session: Session, issue: Issue, message: Message) -> None:
    """One triage request per administrator, each carrying that administrator's token."""
    _to_each_admin(app, session, issue, message, "triage-request", ())


def notify_update(app: App, session: Session, issue: Issue, message: Message) -> None:
    """New information on an issue: a short update on the triage thread."""
    _to_each_admin(app, session, issue, message, "triage-update", _triage_thread(session, issue))


def _to_each_admin(
    app: App, session: Session, issue: Issue, message: Message, template: str, references: tuple[str, ...]
) -> None:
    context = summary_context(app, session, issue, message)
    for admin in app.settings.triage.admins:
        token = token_for(app, issue, admin)
        out = notify.Outgoing(
            template=template,
            to=(admin,),
            purpose=f"triage-{token}",  # in our Message-ID too, for clients that drop the tag
            unique=f"{message.message_id}/{admin}",
            references=references,
        )
        notify.send(session, app, issue, out, {**context, "token": token})


def summary_context(app: App, session: Session, issue: Issue, message: Message) -> dict[str, Any]:
    text = message.visible_text.strip() or message.text.strip()
    lines = text.splitlines()
    return {
        "message": message,
        "summary_lines": lines[:SUMMARY_LINES],
        "summary_truncated": len(lines) > SUMMARY_LINES,
        "attachments": [(a.filename, a.size) for a in message.attachments],
        "related": related_issues(session, issue),
        "cheat_sheet": CHEAT_SHEET,
    }


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
    """Ids of recent open issues whose subject is similar; the cheap bounds of difflib rule
    most candidates out before the full ratio is computed."""
    recent = (
        select(Issue.id, Issue.subject)
        .where(Issue.id != issue.id, Issue.status.in_(OPEN_STATUSES))
        .order_by(Issue.id.desc())
        .limit(500)
    )
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(issue.subject.lower())
    found = []
    for other_id, subject in session.execute(recent):
        if other_id in exclude:
            continue
        matcher.set_seq1(subject.lower())
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6:
            found.append(other_id)
            if len(found) >= limit:
                break
    return found


def _triage_thread(session: Session, issue: Issue) -> tuple[str, ...]:
    """The Message-IDs of the issue's first inbound message, so updates thread with it."""
    first = session.scalar(
        select(Message.message_id).where(Message.issue_id == issue.id).order_by(Message.id).limit(1)
    )
    return (first,) if first else ()
