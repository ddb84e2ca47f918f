"""The catalogue of outgoing emails: one function per email, each returning an `Email`
(template, recipients, Message-ID parts, threading, Auto-Submitted, rate limiting) with a
plain, read-only context. Views of database rows are built once, in `rows`, beforehand.

Every `Email` goes through `mailproc.outbound.gate.send`.
"""

from mailproc.outbound.catalogue.admins import (
    command_confirmation,
    command_error,
    command_rejected,
    triage_digest,
    triage_request,
    triage_update,
)
from mailproc.outbound.catalogue.announcement import (
    Awareness,
    announcement,
    announcement_recipients,
    awareness,
)
from mailproc.outbound.catalogue.groups import (
    delegation,
    delegation_reminder,
    escalation,
    outcome_to_list_member,
    outcome_to_lists,
)
from mailproc.outbound.catalogue.meetings import (
    AgendaIssue,
    AgendaItem,
    AgendaView,
    MeetingView,
    agenda,
    agenda_reply,
    meeting_cancelled,
)
from mailproc.outbound.catalogue.minutes import (
    ClosedIssue,
    DecisionView,
    MinutesItem,
    MinutesView,
    decisions_confirmation,
    decisions_error,
    minutes,
)
from mailproc.outbound.catalogue.rows import group_view, issue_ref, issue_view, message_view
from mailproc.outbound.catalogue.submitters import (
    acknowledgement,
    declined,
    duplicate,
    info_request,
    outcome_to_submitter,
    progress_accepted,
    progress_delegated,
    progress_scheduled,
)
from mailproc.outbound.catalogue.values import (
    AppliedView,
    CommandReply,
    CommandView,
    Email,
    GroupView,
    Incoming,
    IssueRef,
    IssueView,
    ListedMail,
    ListView,
    MessageView,
)

__all__ = [
    "AgendaIssue",
    "AgendaItem",
    "AgendaView",
    "AppliedView",
    "Awareness",
    "ClosedIssue",
    "CommandReply",
    "CommandView",
    "DecisionView",
    "Email",
    "GroupView",
    "Incoming",
    "IssueRef",
    "IssueView",
    "ListView",
    "ListedMail",
    "MeetingView",
    "MessageView",
    "MinutesItem",
    "MinutesView",
    "acknowledgement",
    "agenda",
    "agenda_reply",
    "announcement",
    "announcement_recipients",
    "awareness",
    "command_confirmation",
    "command_error",
    "command_rejected",
    "decisions_confirmation",
    "decisions_error",
    "declined",
    "delegation",
    "delegation_reminder",
    "duplicate",
    "escalation",
    "group_view",
    "info_request",
    "issue_ref",
    "issue_view",
    "meeting_cancelled",
    "message_view",
    "minutes",
    "outcome_to_list_member",
    "outcome_to_lists",
    "outcome_to_submitter",
    "progress_accepted",
    "progress_delegated",
    "progress_scheduled",
    "triage_digest",
    "triage_request",
    "triage_update",
]
