"""Emails after a meeting: the answer to the decisions reply, and the minutes to the lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mailproc.outbound.catalogue.meetings import AgendaIssue, MeetingView
from mailproc.outbound.catalogue.values import AUTO_REPLIED, Email, GroupView, Incoming, ListView, make_email


@dataclass(frozen=True)
class DecisionView:
    """One applied decision: the line of the reply, what it concerned, what was done."""

    line_no: int
    subject: str  # the reference, "Item n", "Attendees" or "Apologies"
    summary: str
    note: str = ""  # e.g. that the issue was not on this meeting's agenda


@dataclass(frozen=True)
class MinutesItem:
    """An item of the minutes: an issue (by reference and title) or an item added by hand."""

    number: int
    reference: str  # "" for an item that is not an issue
    title: str
    discussion: str
    decision: str
    action_owner: str
    due_date: date | None


@dataclass(frozen=True)
class ClosedIssue:
    reference: str
    title: str
    outcome: str


@dataclass(frozen=True)
class MinutesView:
    """Everything the minutes show; `changes` lists what a correction changed."""

    meeting: MeetingView
    version: int
    attendees: tuple[str, ...]
    apologies: tuple[str, ...]
    items: tuple[MinutesItem, ...]
    actions: tuple[AgendaIssue, ...]  # the action log: open delegated actions
    closed: tuple[ClosedIssue, ...]
    changes: tuple[str, ...] = ()

    @property
    def corrected(self) -> bool:
        return self.version > 1


def minutes(group: GroupView, view: MinutesView, to: str, mailing_list: ListView) -> Email:
    """One version of the minutes to one address of the minutes lists, with its List-Id."""
    reference = view.meeting.reference
    return make_email(
        "minutes",
        group,
        None,
        to=(to,),
        purpose="minutes",
        unique=f"{reference}/v{view.version}/{to}",
        context={"minutes": view, "meeting": view.meeting, "mailing_list": mailing_list},
        list_id=mailing_list.list_id,
        held=True,  # waits outbound.list_hold_minutes, like all list mail
    )


def decisions_confirmation(
    group: GroupView,
    meeting: MeetingView,
    incoming: Incoming,
    tag: str,
    decided: tuple[tuple[DecisionView, ...], tuple[str, ...], tuple[str, ...]],
) -> Email:
    """Every decision applied, the emails that follow and to whom, and the lines not read."""
    done, mail, ignored = decided
    context: dict[str, object] = {"decisions": done, "mail": mail, "ignored": ignored}
    return _answer("decisions-confirmation", group, meeting, incoming, tag, context)


def decisions_error(
    group: GroupView, meeting: MeetingView, incoming: Incoming, tag: str, error: str
) -> Email:
    """Nothing was applied: the error naming the line and what would be valid."""
    return _answer("decisions-error", group, meeting, incoming, tag, {"error": error})


def _answer(
    template: str, group: GroupView, meeting: MeetingView, incoming: Incoming, tag: str,
    context: dict[str, object],
) -> Email:  # fmt: skip
    return make_email(
        template,
        group,
        None,
        to=(incoming.sender,),
        unique=f"{template}/{incoming.message_id}",
        context={"meeting": meeting, "tag": tag, "subject": incoming.subject, **context},
        in_reply_to=incoming.message_id,
        references=(*incoming.references, incoming.message_id),
        auto=AUTO_REPLIED,
    )
