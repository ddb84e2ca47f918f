"""Which path a message takes: automatic (never answered), command, reply or new.

The decision is data: `MACHINE_RULES` and `PATH_RULES` are ordered tuples of
(predicate, kind, reason); the first predicate that matches decides. Each predicate is a
small pure function, tested on its own. A machine predicate returns None for "no", or a
detail string ("" for none) that is appended to the rule's reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, Protocol

from mailproc.intake.inbound import Inbound
from mailproc.intake.machine_marks import SPAM_REASON, away_subject, challenge_response, spam_marked
from mailproc.vocabulary import subject_tag


class Kind(StrEnum):
    """The four paths of an inbound message (DESIGN.md, "The flow of one inbound message")."""

    AUTOMATIC = "automatic"
    COMMAND = "command"
    REPLY = "reply"
    NEW = "new"


@dataclass(frozen=True)
class ClassifyContext:
    """The settings classification needs: our address, the administrators, the reference prefix."""

    group_address: str
    admins: tuple[str, ...]
    reference_prefix: str


class ThreadLookup(Protocol):
    """What classification asks the database about issues and our own mail."""

    def issue_for_reference(self, reference: str) -> str | None:
        """The reference if such an issue exists, else None."""

    def issue_for_message_ids(self, ids: Sequence[str]) -> str | None:
        """The reference of the issue owning any of these Message-IDs (ours or stored)."""

    def is_own_message_id(self, message_id: str) -> bool:
        """Whether we generated this Message-ID."""

    def is_triage_message_id(self, message_ids: Sequence[str]) -> str | None:
        """The issue reference if one of these ids is a triage request we sent."""


@dataclass(frozen=True)
class Classification:
    """The path, why (a rule's reason), the issue it concerns, and whether to withhold the ack."""

    kind: Kind
    reason: str
    reference: str | None
    suppress_ack: bool
    # A REPLY that carried a triage tag from someone who is not an administrator: any
    # command in it is ignored, and the flow records that on the issue.
    command_ignored: bool = False


MachineCheck = Callable[[Inbound, ClassifyContext], str | None]
PathCheck = Callable[[Inbound, ClassifyContext, ThreadLookup], str | None]


class MachineRule(NamedTuple):
    """A "never answer a machine" condition: predicate → None, or a detail for the reason."""

    predicate: MachineCheck
    kind: Kind
    reason: str


class PathRule(NamedTuple):
    """A human path: the predicate returns the issue reference when the rule applies."""

    predicate: PathCheck
    kind: Kind
    reason: str


# --- machine predicates: "never reply to a machine" -----------------------------------------

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_LIST_HEADERS = frozenset({"mailing-list", "x-mailing-list", "x-ml-name", "x-mlserver", "x-mailman-version"})
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_NEGATIVE = frozenset({"no", "false", "0"})
_REPORT_TYPES = frozenset(
    {
        "multipart/report",
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/global-disposition-notification",
        "message/feedback-report",
    }
)
# Local parts that only machines send from; VERP suffixes (bounces+x=y, bounce-123) included.
_MACHINE_LOCAL = re.compile(
    r"(mailer[-_.]?daemon|post[-_.]?master|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)"
    r"(?:[-+=].*)?",
    re.IGNORECASE,
)
# Subjects real MTAs and mail clients give auto-replies and bounces, anchored at the start
# and mostly ending in a colon, so that a person's "Out of office cover" is not matched.
_AUTO_REPLY_SUBJECT = re.compile(
    r"\s*(?:automatic reply|auto[- ]?(?:reply|respons\w*)|out of (?:the )?office(?: auto-?reply)?"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática"
    r"|risposta automatica|automatisch antwoord|(?:not )?read)\s*[:：]",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"\s*(?:undeliverable(?: mail| message)?\s*(?:[:,]|$)|undelivered mail returned to sender"
    r"|delivery status notification\b|returned mail\s*:|mail delivery failed\b"
    r"|failure notice\s*(?::|$)|mail system error - returned mail"
    r"|delivery notification: delivery has failed|warning: could not send message for past)",
    re.IGNORECASE,
)


def own_address(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Mail from our own group address: our own mail coming back."""
    return "" if ctx.group_address.strip().lower() in msg.from_addresses else None


def auto_submitted(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """RFC 3834: any Auto-Submitted value but `no` (auto-replied, auto-generated, ...)."""
    for value in msg.headers_named("Auto-Submitted"):
        token = _first_token(value)
        if token and token != "no":
            return token
    return None


def report_content(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """A delivery or disposition report (DSN, MDN read receipt, ARF abuse report)."""
    return next((t for t in msg.content_types if t in _REPORT_TYPES), None)


def null_sender(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """`Return-Path: <>`: the envelope sender of bounces and auto-replies (RFC 5321, 3834)."""
    value = msg.header("Return-Path")
    return "<>" if value is not None and re.fullmatch(r"<\s*>", value.strip()) else None


def failed_recipients(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Exim and others name the failed addresses of a bounce in X-Failed-Recipients."""
    return "" if msg.header("X-Failed-Recipients") is not None else None


def autoresponder_header(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """X-Autoreply / X-Autorespond / X-Autoresponder, unless explicitly negative."""
    for name in _AUTORESPONDER_HEADERS:
        value = msg.header(name)
        if value is not None and value.strip().lower() not in _NEGATIVE:
            return name
    return None


def exchange_auto_reply(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Exchange out-of-office: X-Auto-Response-Suppress together with the inbox-rules loop."""
    both = ("X-Auto-Response-Suppress", "X-MS-Exchange-Inbox-Rules-Loop")
    return "" if all(msg.header(name) is not None for name in both) else None


def exchange_generated(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Mail that an Exchange agent generated (rules, journaling, ...)."""
    value = msg.header("X-MS-Exchange-Generated-Message-Source")
    return value.strip() if value is not None else None


def exchange_ndr(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """An Exchange non-delivery report."""
    return "" if msg.header("X-MS-Exchange-Message-Is-Ndr") is not None else None


def precedence(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """`Precedence: bulk|junk|list|auto_reply`."""
    token = _first_token(msg.header("Precedence") or "")
    return token if token in _BULK_PRECEDENCE else None


def list_header(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Mailing-list traffic: any List-* header (RFC 2369/2919) or a list manager's own."""
    for name, _ in msg.headers:
        lname = name.lower()
        if lname.startswith("list-") or lname in _LIST_HEADERS:
            return name
    return None


def machine_sender(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """A sender local part only machines use: mailer-daemon, postmaster, noreply, bounces."""
    for address in msg.from_addresses:
        local = address.rpartition("@")[0] or address
        if _MACHINE_LOCAL.fullmatch(local.strip('"')):
            return local
    return None


def auto_reply_subject(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Subject prefixes of out-of-office replies and read receipts, when no header said so."""
    match = _AUTO_REPLY_SUBJECT.match(msg.subject)
    return match[0].strip() if match else None


def bounce_subject(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Subjects that MTAs give bounces, when no header or MIME type said so."""
    match = _BOUNCE_SUBJECT.match(msg.subject)
    return match[0].strip() if match else None


def _first_token(value: str) -> str:
    return re.split(r"[\s;(]", value.strip().lower(), maxsplit=1)[0]


MACHINE_RULES: tuple[MachineRule, ...] = (
    MachineRule(own_address, Kind.AUTOMATIC, "loop: from our own address"),
    MachineRule(spam_marked, Kind.AUTOMATIC, SPAM_REASON),
    MachineRule(auto_submitted, Kind.AUTOMATIC, "auto-submitted"),
    MachineRule(report_content, Kind.AUTOMATIC, "report"),
    MachineRule(null_sender, Kind.AUTOMATIC, "null-sender"),
    MachineRule(failed_recipients, Kind.AUTOMATIC, "failed-recipients"),
    MachineRule(autoresponder_header, Kind.AUTOMATIC, "autoresponder-header"),
    MachineRule(exchange_auto_reply, Kind.AUTOMATIC, "exchange-auto-reply"),
    MachineRule(exchange_generated, Kind.AUTOMATIC, "exchange-generated"),
    MachineRule(exchange_ndr, Kind.AUTOMATIC, "exchange-ndr"),
    MachineRule(precedence, Kind.AUTOMATIC, "precedence"),
    MachineRule(list_header, Kind.AUTOMATIC, "list-header"),
    MachineRule(machine_sender, Kind.AUTOMATIC, "machine-sender"),
    MachineRule(auto_reply_subject, Kind.AUTOMATIC, "auto-reply-subject"),
    MachineRule(bounce_subject, Kind.AUTOMATIC, "bounce-subject"),
    MachineRule(away_subject, Kind.AUTOMATIC, "away-subject"),
    MachineRule(challenge_response, Kind.AUTOMATIC, "challenge-response"),
)


def machine_reason(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """The reason of the first machine rule that matches, e.g. "auto-submitted: auto-replied"."""
    for rule in MACHINE_RULES:
        detail = rule.predicate(msg, ctx)
        if detail is not None:
            return f"{rule.reason}: {detail}" if detail else rule.reason
    return None


# --- subjects ---------------------------------------------------------------------------------

# Reply/forward prefixes in the languages our correspondents' clients use, with counters
# (`Re[2]:`, `Re(2):`, `Re^2:`) and the full-width colon of CJK clients.
# No two whitespace runs touch (the counter takes its own trailing space), so a subject of
# "Re" and a megabyte of spaces is one linear scan, not a quadratic split between them.
_REPLY_PREFIX = re.compile(
    r"\s*(?:re|fwd?|aw|sv|vs|antw|wg|tr|rif|r)\s*(?:(?:\[\d+\]|\(\d+\)|\^\d+)\s*)?[:：]\s*",
    re.IGNORECASE,
)


def strip_reply_prefixes(subject: str) -> str:
    """The subject without its leading Re:/Fw:/AW:/SV:/... prefixes, however many."""
    pos = 0  # matched in place: slicing off each of "Re:Re:Re:…" would copy the rest each time
    while match := _REPLY_PREFIX.match(subject, pos):
        pos = match.end()
    return subject[pos:].strip()


# --- path predicates: which issue a human message belongs to ---------------------------------


def _thread_ids(msg: Inbound) -> tuple[str, ...]:
    """References then In-Reply-To: the nearest ancestor last, as References orders them."""
    ids = [*msg.references, *([msg.in_reply_to] if msg.in_reply_to else [])]
    return tuple(reversed(dict.fromkeys(reversed(ids))))


def _plainly_not_admin(msg: Inbound, ctx: ClassifyContext) -> bool:
    """One cleanly parsed From address, not on the allow-list. A From naming an
    administrator, or one that does not parse cleanly, stays a command for triage to judge
    (and refuse, when forged): only plain non-administrators are let through as replies."""
    admins = {a.strip().lower() for a in ctx.admins}
    return msg.sender_trusted and len(msg.from_addresses) == 1 and msg.from_address not in admins


def tagged_command(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> str | None:
    """The subject carries a triage tag: a reply to a triage request we sent."""
    tag = subject_tag(msg.subject, ctx.reference_prefix)
    return tag.reference if tag and tag.token and not _plainly_not_admin(msg, ctx) else None


def tagged_by_non_admin(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> str | None:
    """A triage tag from someone who is not an administrator (a colleague's reply-all, a
    forward): a reply to the issue, never a command, so that it is not lost in quarantine."""
    tag = subject_tag(msg.subject, ctx.reference_prefix)
    if not tag or not tag.token or not _plainly_not_admin(msg, ctx):
        return None
    return lookup.issue_for_reference(tag.reference)


def admin_reply_to_triage(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> str | None:
    """An administrator answering a triage request whose subject lost the tag."""
    admins = {a.strip().lower() for a in ctx.admins}
    if not msg.sender_trusted or msg.from_address not in admins:
        return None
    ids = [*([msg.in_reply_to] if msg.in_reply_to else []), *msg.references]
    return lookup.is_triage_message_id(ids) if ids else None


def subject_names_issue(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> str | None:
    """The subject carries the reference of an existing issue."""
    tag = subject_tag(msg.subject, ctx.reference_prefix)
    reference = tag.reference if tag else None
    return lookup.issue_for_reference(reference) if reference else None


def thread_names_issue(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> str | None:
    """In-Reply-To/References name a message of an existing issue."""
    ids = _thread_ids(msg)
    return lookup.issue_for_message_ids(ids) if ids else None


IGNORED_COMMAND_REASON = "reply: triage tag from someone who is not an administrator"
PATH_RULES: tuple[PathRule, ...] = (
    PathRule(tagged_command, Kind.COMMAND, "command: triage tag in subject"),
    PathRule(admin_reply_to_triage, Kind.COMMAND, "command: administrator reply to triage request"),
    PathRule(tagged_by_non_admin, Kind.REPLY, IGNORED_COMMAND_REASON),
    PathRule(subject_names_issue, Kind.REPLY, "reply: issue reference in subject"),
    PathRule(thread_names_issue, Kind.REPLY, "reply: in-reply-to/references"),
)


def classify(msg: Inbound, ctx: ClassifyContext, lookup: ThreadLookup) -> Classification:
    """Decide the path of a parsed message: AUTOMATIC, then COMMAND, REPLY, else NEW.

    `suppress_ack` is set for machines, when the sender asked for no automatic answers
    (`X-Auto-Response-Suppress`), and for a NEW message whose sender is untrusted.
    """
    reason = machine_reason(msg, ctx)
    if reason is None and lookup.is_own_message_id(msg.message_id):
        reason = "loop: our own Message-ID"
    if reason is not None:
        return Classification(Kind.AUTOMATIC, reason, None, suppress_ack=True)
    suppress = msg.header("X-Auto-Response-Suppress") is not None
    for rule in PATH_RULES:
        reference = rule.predicate(msg, ctx, lookup)
        if reference:
            ignored = rule.reason == IGNORED_COMMAND_REASON
            return Classification(rule.kind, rule.reason, reference, suppress, command_ignored=ignored)
    if msg.from_defects:
        return Classification(Kind.NEW, "new: sender untrusted", None, suppress_ack=True)
    return Classification(Kind.NEW, "new", None, suppress)
