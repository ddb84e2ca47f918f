"""Emails to the group's administrators: triage requests and updates, answers to their
commands, and the daily digest of what waits for triage."""

from __future__ import annotations

from datetime import date

from mailproc.outbound.catalogue.values import (
    AUTO_REPLIED,
    AppliedView,
    CommandReply,
    Email,
    GroupView,
    IssueRef,
    IssueView,
    ListedMail,
    MessageView,
    make_email,
)
from mailproc.vocabulary import TRIAGE_PURPOSE_PREFIX


def triage_request(
    group: GroupView,
    issue: IssueView,
    message: MessageView,
    admin: str,
    token: str,
    related: tuple[IssueRef, ...],
    cheat_sheet: str,
) -> Email:
    """A new issue for one administrator: summary, related open issues, the keyword card.
    The token rides in the subject and in our Message-ID (for clients that drop the tag)."""
    context = {**_summary(message, token, cheat_sheet), "related": related}
    return make_email(
        "triage-request",
        group,
        issue,
        to=(admin,),
        purpose=f"{TRIAGE_PURPOSE_PREFIX}{token}",
        unique=f"{message.message_id}/{admin}",
        context=context,
        references=(),
    )


def triage_update(
    group: GroupView, issue: IssueView, message: MessageView, admin: str, token: str, cheat_sheet: str
) -> Email:
    """New information on an issue for one administrator, on the issue's thread."""
    return make_email(
        "triage-update",
        group,
        issue,
        to=(admin,),
        purpose=f"{TRIAGE_PURPOSE_PREFIX}{token}",
        unique=f"{message.message_id}/{admin}",
        context=_summary(message, token, cheat_sheet),
    )


def _summary(message: MessageView, token: str, cheat_sheet: str) -> dict[str, object]:
    return {
        "message": message,
        "summary_lines": message.summary_lines,
        "summary_truncated": message.summary_truncated,
        "attachments": message.attachments,
        "cheat_sheet": cheat_sheet,
        "token": token,
    }


def command_confirmation(
    reply: CommandReply, applied: tuple[AppliedView, ...], ignored: tuple[str, ...]
) -> Email:
    """What a command email changed, and the lines below the commands that were not read."""
    return _answer("command-confirmation", reply, _issue(reply), {"applied": applied, "ignored": ignored})


def command_error(reply: CommandReply, error: str, cheat_sheet: str) -> Email:
    """Nothing was applied: the error naming the line, and the keyword card."""
    return _answer("command-error", reply, _issue(reply), {"error": error, "cheat_sheet": cheat_sheet})


def command_rejected(reply: CommandReply, reason: str, meeting: str = "") -> Email:
    """The email was not accepted as a command (only ever sent to a verified administrator);
    `meeting` ("MTG-7") when it was a decisions reply to that meeting's agenda."""
    return _answer("command-rejected", reply, reply.issue, {"reason": reason, "meeting": meeting})


def _issue(reply: CommandReply) -> IssueView:
    if reply.issue is None:
        raise ValueError("this answer to a command email needs the issue it concerns")
    return reply.issue


def _answer(template: str, reply: CommandReply, issue: IssueView | None, context: dict[str, object]) -> Email:
    incoming = reply.incoming
    return make_email(
        template,
        reply.group,
        issue,
        to=(incoming.sender,),
        # With a token, a reply to this answer can carry further commands.
        purpose=f"{TRIAGE_PURPOSE_PREFIX}{reply.token}" if reply.token else template,
        unique=f"{template}/{incoming.message_id}",
        context={"token": reply.token, "subject": incoming.subject, **context},
        in_reply_to=incoming.message_id,
        references=(*incoming.references, incoming.message_id),
        auto=AUTO_REPLIED,
    )


def triage_digest(
    group: GroupView,
    admin: str,
    waiting: tuple[IssueView, ...],
    today: date,
    listed: tuple[ListedMail, ...] = (),
) -> Email:
    """The issues waiting for triage, and the mail listed instead of answered (spam-marked,
    held back from a flooding sender), to one administrator, once a day."""
    return make_email(
        "triage-reminder",
        group,
        None,
        to=(admin,),
        purpose="digest",
        unique=f"{admin}/{today.isoformat()}",
        context={"waiting": waiting, "listed": listed},
    )
