"""Emails to distribution lists, operational groups and the escalation route.

They carry the minimum: the title an administrator chose (`IssueView.shared_title`), never the
submitter's subject, and the submitter's text only when an administrator forwards it
(`DELEGATE … WITH TEXT`). Each is `held`: it waits `outbound.list_hold_minutes` so that UNDO
can still stop it.
"""

from __future__ import annotations

from datetime import date

from mailproc.config import Contact
from mailproc.outbound.catalogue.values import CommandView, Email, GroupView, IssueView, ListView, make_email


def outcome_to_lists(group: GroupView, issue: IssueView, command: CommandView, to: tuple[str, ...]) -> Email:
    """CLOSE: the outcome, to the lists configured for outcomes."""
    return make_email(
        "outcome",
        group,
        issue,
        to=to,
        purpose="outcome-lists",
        unique=command.unique,
        context={"command": command, "outcome": command.text, "mailing_list": None},
        held=True,
    )


def outcome_to_list_member(
    group: GroupView, issue: IssueView, command: CommandView, address: str, mailing_list: ListView
) -> Email:
    """CLOSE: the outcome, to one address of a list for the issue's area: one message per
    recipient, so that no list's addresses are shown, with a List-Id naming the list."""
    return make_email(
        "outcome",
        group,
        issue,
        to=(address,),
        purpose="outcome-lists",
        unique=f"{command.unique}/{address}",
        context={"command": command, "outcome": command.text, "mailing_list": mailing_list},
        list_id=mailing_list.list_id,
        held=True,
    )


def delegation(
    group: GroupView, issue: IssueView, command: CommandView, target: Contact, with_text: bool = False
) -> Email:
    """DELEGATE: the issue's title, area and due date to the group's contact; the submitter's
    text (redacted by the gate, as all group mail) only `with_text`."""
    return make_email(
        "delegated",
        group,
        issue,
        to=target.contact,
        unique=command.unique,
        context={
            "command": command,
            "target_group": target,
            "forwarded": issue.as_submitted if with_text else None,
        },
        held=True,
    )


def escalation(group: GroupView, issue: IssueView, command: CommandView, route: Contact) -> Email:
    """ESCALATE: the issue and the reason, up the configured escalation route."""
    return make_email(
        "escalated",
        group,
        issue,
        to=route.contact,
        unique=command.unique,
        context={"command": command, "route": route, "reason": command.text},
        held=True,
    )


def delegation_reminder(group: GroupView, issue: IssueView, target: Contact, today: date) -> Email:
    """An overdue delegation, chased (one a day at most: `today` is in the Message-ID)."""
    return make_email(
        "delegation-reminder",
        group,
        issue,
        to=target.contact,
        purpose="reminder",
        unique=f"{issue.reference}/{today.isoformat()}",
        context={"target_group": target},
    )
