"""TITLE, PUBLISH and UNPUBLISH: the administrator's words for an issue.

The working title names the issue in administrators' mail and the CLI; the public summary is
what the register shows, and the register shows nothing of an issue without one. Neither
touches the submitter's subject, which stays in the issue and its messages.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.privacy import detector, public
from mailproc.store.models import Issue
from mailproc.triage.grammar import Command


def set_title(app: App, session: Session, issue: Issue, cmd: Command) -> str:
    issue.title = cmd.text
    return f'working title set to "{cmd.text}"'


def identifiers_in(app: App, text: str) -> list[str]:
    """The kinds of patient detail the detector sees in `text` ("CHI numbers", "titled
    names", …), the group's members' names apart; empty when it sees none."""
    keep = public.public_phrases(m.name for m in app.settings.members)
    findings = detector.find_pid(text, app.settings.privacy.patterns, keep=keep)
    return detector.describe_kinds(f.kind for f in findings)


def publish(app: App, session: Session, issue: Issue, cmd: Command) -> str:
    again = issue.public_summary is not None
    issue.public_summary = cmd.text
    issue.published_at = app.clock()
    shown = f'"{cmd.text}"'
    if again:
        return f"public summary changed to {shown}; the register shows it from its next build"
    return f"published under {shown}; the register shows it from its next build"


def unpublish(app: App, session: Session, issue: Issue, cmd: Command) -> str:
    if issue.public_summary is None:
        return "not published; nothing to take down"
    issue.public_summary = None
    issue.published_at = None
    return "taken off the register from its next build"
