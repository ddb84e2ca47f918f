"""The values an email is made of: `Email` itself and the read-only views its context holds.

A context holds only str, int, date/datetime, None, tuples and frozen dataclasses, checked
when the `Email` is made, so a template can never reach the database (no lazy loading of
an ORM relationship in the middle of rendering, and nothing to go stale after a commit).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from mailproc.config import Member
from mailproc.outbound.compose import CalendarPart

AUTO_REPLIED = "auto-replied"  # an answer to one inbound email (RFC 3834)
AUTO_GENERATED = "auto-generated"  # mail a program sends on its own account
_SCALARS = (str, int, float, date, type(None))  # bool is an int, datetime a date


@dataclass(frozen=True)
class GroupView:
    """The group as its emails show it."""

    name: str
    address: str
    members: tuple[Member, ...] = ()
    register_url: str = ""  # where the published register is read; every footer links it


@dataclass(frozen=True)
class IssueView:
    """An issue as its emails show it, read once from its row (see `rows.issue_view`)."""

    id: int
    reference: str
    subject: str
    status: str
    priority: str
    created_at: datetime
    submitter_email: str = ""
    submitter_name: str = ""
    area: str = ""
    suggested_area: str = ""
    source_kind: str = ""
    due_date: date | None = None
    pid_detected: bool = False
    # What kinds of identifier were seen, in words ("CHI numbers", "dates of birth"), most
    # sensitive first: the acknowledgement names them. Never the values.
    pid_kinds: tuple[str, ...] = ()
    # The first inbound message: its Message-ID roots the issue's thread, and its text is
    # what delegation and escalation emails quote (None when the issue has no message).
    first_message_id: str | None = None
    as_submitted: str | None = None
    title: str = ""  # the administrator's working title (TITLE); "" when not set
    public_summary: str = ""  # what the register shows (PUBLISH); "" when unpublished

    @property
    def working_title(self) -> str:
        """What administrators' mail calls the issue: its working title, else the subject."""
        return self.title or self.subject

    @property
    def shared_title(self) -> str:
        """What lists, groups and the escalation route see: words an administrator chose
        (public summary, else working title), never the submitter's subject."""
        return self.public_summary or self.title or f"Issue {self.reference}"

    @property
    def thread(self) -> tuple[str, ...]:
        """The References of an email about this issue that answers no email in particular."""
        return (self.first_message_id,) if self.first_message_id else ()


@dataclass(frozen=True)
class IssueRef:
    """Another issue named in an email: a related issue, a duplicate's target."""

    reference: str
    subject: str
    status: str


@dataclass(frozen=True)
class MessageView:
    """An inbound message as a triage request or update summarises it."""

    message_id: str
    from_name: str
    from_address: str
    received_at: datetime
    summary_lines: tuple[str, ...]
    summary_truncated: bool
    attachments: tuple[tuple[str, int], ...]  # (file name, size in bytes)


@dataclass(frozen=True)
class ListedMail:
    """Mail the daily digest lists instead of having answered it: spam-marked mail, and
    triage mail held back because one sender sent too much in a day."""

    received_at: datetime
    sender: str
    subject: str
    why: str
    reference: str = ""


@dataclass(frozen=True)
class Incoming:
    """The email being answered: who sent it, how it threads, and its subject."""

    sender: str
    message_id: str
    references: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class CommandView:
    """A triage command that causes an email, and how it came (`via`: a Message-ID or "cli:...")."""

    keyword: str
    text: str
    line_no: int
    via: str

    @property
    def unique(self) -> str:
        """What makes the emails of this command distinct from those of any other."""
        return f"{self.via}/{self.line_no}/{self.keyword}"


@dataclass(frozen=True)
class AppliedView:
    """A command as its confirmation shows it: what it did, the text that goes out (as it
    goes: redacted) and each email it queued, to whom and when."""

    command: CommandView
    summary: str
    sent_text: str = ""
    outgoing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListView:
    """A distribution list as its mail names it: `List-Id: GP Sub-group <gp-subgroup.domain>`."""

    key: str
    name: str
    domain: str  # the group address's domain (RFC 2919: a list-id is a name under a domain we own)

    @property
    def list_id(self) -> str:
        """The RFC 2919 List-Id value; the key is reduced to a dot-atom label."""
        label = re.sub(r"[^a-z0-9-]+", "-", self.key.lower()).strip("-") or "list"
        return f"{self.name} <{label}.{self.domain}>"


@dataclass(frozen=True)
class CommandReply:
    """What every answer to an administrator's command email shares."""

    group: GroupView
    issue: IssueView | None
    incoming: Incoming
    token: str  # the administrator's token for the issue; "" without an issue


@dataclass(frozen=True)
class Email:
    """One email of the catalogue, ready for the send gate.

    `purpose` and `unique` make the deterministic Message-ID; `rate_limited` emails meet
    the per-address daily limit on automatic replies; `context` is read-only and plain.
    """

    template: str
    to: tuple[str, ...]
    purpose: str
    unique: str
    context: Mapping[str, object]
    issue: IssueView | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto: str = AUTO_GENERATED
    rate_limited: bool = False
    list_id: str = ""  # the List-Id header of list mail (RFC 2919); "" for none
    calendar: CalendarPart | None = None  # an invitation or cancellation (meetings)
    # Mail to lists and groups waits `outbound.list_hold_minutes` so that UNDO can stop it.
    held: bool = False

    def __post_init__(self) -> None:
        for key, value in self.context.items():
            check_plain(value, key)
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))


def check_plain(value: object, where: str) -> None:
    """Raise TypeError unless `value` is plain: scalars, tuples and frozen dataclasses of them."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            check_plain(item, f"{where}[{index}]")
        return
    if _frozen_dataclass(value):
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            check_plain(getattr(value, f.name), f"{where}.{f.name}")
        return
    raise TypeError(
        f"email context value {where!r} is a {type(value).__name__}; the catalogue passes "
        "only str, int, dates, tuples and frozen dataclasses to templates"
    )


def _frozen_dataclass(value: object) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and not isinstance(value, type) and bool(params.frozen)


def make_email(
    template: str,
    group: GroupView,
    issue: IssueView | None,
    *,
    to: tuple[str, ...],
    unique: str,
    context: Mapping[str, object],
    purpose: str = "",
    in_reply_to: str | None = None,
    references: tuple[str, ...] | None = None,
    auto: str = AUTO_GENERATED,
    rate_limited: bool = False,
    list_id: str = "",
    calendar: CalendarPart | None = None,
    held: bool = False,
) -> Email:
    """An Email whose context also holds what every template may use (group, members, issue);
    the purpose defaults to the template's name and the References to the issue's thread."""
    return Email(
        template=template,
        to=to,
        purpose=purpose or template,
        unique=unique,
        context={"group": group, "members": group.members, "issue": issue, **context},
        issue=issue,
        in_reply_to=in_reply_to,
        references=references if references is not None else (issue.thread if issue else ()),
        auto=auto,
        rate_limited=rate_limited,
        list_id=list_id,
        calendar=calendar,
        held=held,
    )
