"""Emails to the clinician who raised an issue."""

from __future__ import annotations

from datetime import date

from mailproc.outbound.catalogue.values import (
    AUTO_GENERATED,
    AUTO_REPLIED,
    CommandView,
    Email,
    GroupView,
    Incoming,
    IssueRef,
    IssueView,
    make_email,
)


def acknowledgement(group: GroupView, issue: IssueView, incoming: Incoming) -> Email:
    """The reference, what happens next and who is in the group, to the sender of a new
    issue (rate limited: an outside auto-responder must not draw us into a loop)."""
    return make_email(
        "acknowledgement",
        group,
        issue,
        to=(incoming.sender,),
        purpose="ack",
        unique=incoming.message_id,
        context={},
        in_reply_to=incoming.message_id,
        references=(*incoming.references, incoming.message_id),
        auto=AUTO_REPLIED,
        rate_limited=True,
    )


def info_request(group: GroupView, issue: IssueView, command: CommandView) -> Email:
    """INFO: the administrator's question to the submitter."""
    return _to_submitter("info-request", group, issue, command, {"question": command.text})


def declined(group: GroupView, issue: IssueView, command: CommandView) -> Email:
    """DECLINE: the issue is not taken forward, and why."""
    return _to_submitter("declined", group, issue, command, {"reason": command.text})


def duplicate(group: GroupView, issue: IssueView, command: CommandView, target: IssueRef) -> Email:
    """DUPLICATE: the issue is joined with `target`, whose outcome the submitter will hear."""
    return _to_submitter("duplicate", group, issue, command, {"target": target})


def outcome_to_submitter(group: GroupView, issue: IssueView, command: CommandView) -> Email:
    """CLOSE: the outcome, to the clinician who raised the issue. It waits with the lists'
    copies, so that an UNDO inside the hold window takes the whole CLOSE back."""
    return _to_submitter("outcome", group, issue, command, {"outcome": command.text}, held=True)


def progress_accepted(group: GroupView, issue: IssueView, command: CommandView) -> Email:
    """ACCEPT: the group has taken the issue on."""
    return _progress(group, issue, command, {"change": "accepted"})


def progress_scheduled(group: GroupView, issue: IssueView, command: CommandView, meeting_date: date) -> Email:
    """MEETING: the issue will be discussed at the meeting on `meeting_date`."""
    return _progress(group, issue, command, {"change": "scheduled", "meeting_date": meeting_date})


def progress_delegated(group: GroupView, issue: IssueView, command: CommandView, target_name: str) -> Email:
    """DELEGATE: an operational group is looking into it, due back by the issue's due date."""
    return _progress(group, issue, command, {"change": "delegated", "target_name": target_name})


def _progress(group: GroupView, issue: IssueView, command: CommandView, context: dict[str, object]) -> Email:
    # One template for every change, so that the three read alike; rate limited like the
    # acknowledgement, so that a submitter's auto-responder cannot draw us into a loop.
    to = (issue.submitter_email,) if issue.submitter_email else ()
    return make_email(
        "progress", group, issue, to=to, unique=command.unique, context={"command": command, **context},
        auto=AUTO_GENERATED, rate_limited=True,
    )  # fmt: skip


def _to_submitter(
    template: str,
    group: GroupView,
    issue: IssueView,
    command: CommandView,
    context: dict[str, object],
    held: bool = False,
) -> Email:
    # No trusted submitter address: no recipient, and the gate says so.
    to = (issue.submitter_email,) if issue.submitter_email else ()
    return make_email(
        template,
        group,
        issue,
        to=to,
        unique=command.unique,
        context={"command": command, **context},
        held=held,
    )
