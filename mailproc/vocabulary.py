"""The words every part shares: states and their transitions, issue references, our Message-IDs.

Each is defined once here. States are `StrEnum`s, stored as non-native enums (a string
column with a CHECK constraint), so that a value the code does not know can neither be
written nor pass unnoticed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum


class IssueStatus(StrEnum):
    """Where an issue is in its life (DESIGN.md, "Issue life")."""

    AWAITING_TRIAGE = "awaiting-triage"
    INFO_REQUESTED = "info-requested"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    DELEGATED = "delegated"
    ESCALATED = "escalated"
    CLOSED = "closed"
    DECLINED = "declined"
    DUPLICATE = "duplicate"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    def can_become(self, new: IssueStatus) -> bool:
        """Whether a command may move an issue from this status to `new` (UNDO excepted)."""
        return new == self or new in TRANSITIONS[self]


FINAL_STATUSES = frozenset({IssueStatus.CLOSED, IssueStatus.DECLINED, IssueStatus.DUPLICATE})
OPEN_STATUSES = tuple(s for s in IssueStatus if s not in FINAL_STATUSES)
TRIAGE_STATUSES = frozenset({IssueStatus.AWAITING_TRIAGE, IssueStatus.INFO_REQUESTED})
_ENDINGS = frozenset({*FINAL_STATUSES, IssueStatus.DELEGATED, IssueStatus.ESCALATED})
TRANSITIONS: dict[IssueStatus, frozenset[IssueStatus]] = {
    IssueStatus.AWAITING_TRIAGE: frozenset(
        {IssueStatus.INFO_REQUESTED, IssueStatus.ACCEPTED, IssueStatus.SCHEDULED, *_ENDINGS}
    ),
    IssueStatus.INFO_REQUESTED: frozenset(
        {IssueStatus.AWAITING_TRIAGE, IssueStatus.ACCEPTED, IssueStatus.SCHEDULED, *_ENDINGS}
    ),
    IssueStatus.ACCEPTED: frozenset({IssueStatus.INFO_REQUESTED, IssueStatus.SCHEDULED, *_ENDINGS}),
    IssueStatus.SCHEDULED: frozenset({IssueStatus.INFO_REQUESTED, *_ENDINGS}),
    IssueStatus.DELEGATED: frozenset({IssueStatus.INFO_REQUESTED, IssueStatus.SCHEDULED, *_ENDINGS}),
    IssueStatus.ESCALATED: frozenset({IssueStatus.INFO_REQUESTED, IssueStatus.SCHEDULED, *_ENDINGS}),
    IssueStatus.CLOSED: frozenset(),
    IssueStatus.DECLINED: frozenset(),
    IssueStatus.DUPLICATE: frozenset(),
}


class DeliveryState(StrEnum):
    """An outgoing email as a whole: waiting (first try or a retry), sent, failed for good, or
    cancelled (by UNDO, before any delivery attempt: it is never sent)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RecipientState(StrEnum):
    """One recipient of an outgoing email; only `pending` and `retry` are tried again."""

    PENDING = "pending"
    RETRY = "retry"
    SENT = "sent"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        return self in (RecipientState.PENDING, RecipientState.RETRY)


class QuarantineState(StrEnum):
    HELD = "held"
    RETRIED = "retried"


class MessageKind(StrEnum):
    """How an inbound message was logged."""

    NEW = "new"  # opened an issue
    REPLY = "reply"  # threaded onto an issue
    AUTOMATIC = "automatic"  # machine mail: logged, never answered
    COMMAND = "command"  # an administrator's authorised command email
    COPY = "copy"  # a second copy of a logged email whose bytes differ


class MeetingStatus(StrEnum):
    """A meeting: planned (agenda and invitation may go out), cancelled, or held (decided)."""

    PLANNED = "planned"
    CANCELLED = "cancelled"
    HELD = "held"


class MeetingItemKind(StrEnum):
    """An agenda item: a scheduled issue, or an item added by hand (a sense-check, a talk)."""

    ISSUE = "issue"
    ITEM = "item"


# --- issue references -------------------------------------------------------------------------

REFERENCE_SHAPE = r"[A-Z]{2,10}-[0-9]{4}-[0-9]{3,12}"  # any group's reference, as our ids carry it


def format_reference(prefix: str, year: int, seq: int) -> str:
    """`IFG-2026-0042`: the prefix, the year, and a sequence of at least four digits."""
    return f"{prefix}-{year}-{seq:04d}"


def reference_pattern(prefix: str) -> str:
    """A regex matching this group's references (the sequence may outgrow four digits)."""
    return rf"{re.escape(prefix)}-[0-9]{{4}}-[0-9]{{4,12}}"


@dataclass(frozen=True)
class SubjectTag:
    """`[IFG-2026-0042]` or `[IFG-2026-0042 #token]` found in a subject."""

    reference: str  # upper-cased
    token: str | None


def subject_tag(subject: str, prefix: str) -> SubjectTag | None:
    """The one tag of this group in `subject`; None when there is none, or several different
    references (ambiguous). A token counts only when every tag of that reference agrees."""
    found: dict[str, set[str | None]] = {}
    for m in _tag_regex(prefix).finditer(subject):
        found.setdefault(m[1].upper(), set()).add(m[2])
    if len(found) != 1:
        return None
    reference, tokens = found.popitem()
    named = {t for t in tokens if t}
    return SubjectTag(reference, named.pop() if len(named) == 1 else None)


_TAG_CACHE: dict[str, re.Pattern[str]] = {}


def _tag_regex(prefix: str) -> re.Pattern[str]:
    pattern = _TAG_CACHE.get(prefix)
    if pattern is None:
        # Linear: every repetition is bounded and the pieces cannot overlap.
        pattern = re.compile(
            rf"\[[ \t]{{0,5}}({reference_pattern(prefix)})"
            r"(?:[ \t]{1,5}#[ \t]{0,5}([0-9A-Za-z-]{1,40}))?[ \t]{0,5}\]",
            re.IGNORECASE,
        )
        _TAG_CACHE[prefix] = pattern
    return pattern


# --- our Message-IDs --------------------------------------------------------------------------

NO_REFERENCE = "mailproc"  # stands in for the reference in ids of mail about no issue
_PURPOSE = r"[a-z][a-z0-9-]{0,31}"
_DOMAIN = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"
_OUR_ID = re.compile(
    rf"<(?P<ref>{REFERENCE_SHAPE}|{NO_REFERENCE})\.(?P<purpose>{_PURPOSE})\.[0-9a-f]{{16}}"
    rf"@(?P<domain>(?i:{_DOMAIN}))>"
)


def make_message_id(reference: str | None, purpose: str, unique: str, domain: str) -> str:
    """`<IFG-2026-0042.ack.<16 hex>@domain>`: the same inputs always give the same id.

    `unique` is what makes this message distinct (e.g. the inbound Message-ID it answers),
    so a replayed pass produces the same id and the outbox can refuse it as a duplicate.
    The reference is readable so that a reply's In-Reply-To/References lead to the issue.
    """
    ref = reference if reference is not None else NO_REFERENCE
    if reference is not None and not re.fullmatch(REFERENCE_SHAPE, reference):
        raise ValueError(f"not an issue reference: {reference!r}")
    if not re.fullmatch(_PURPOSE, purpose):
        raise ValueError(f"purpose must be lower-case letters, digits and '-': {purpose!r}")
    host = domain.strip().lower()
    if not re.fullmatch(_DOMAIN, host):
        raise ValueError(f"not a domain: {domain!r}")
    digest = hashlib.sha256(unique.encode("utf-8", errors="surrogatepass")).hexdigest()[:16]
    return f"<{ref}.{purpose}.{digest}@{host}>"


@dataclass(frozen=True)
class OurMessageId:
    reference: str | None
    purpose: str


def parse_our_message_id(mid: str, domain: str | None = None) -> OurMessageId | None:
    """The parts of one of our Message-IDs (with `domain`, only ids carrying that domain);
    None for anybody else's. Angle brackets optional."""
    text = mid.strip()
    if len(text) > 400:  # ours are far shorter; never run a regex over a hostile megabyte
        return None
    if not text.startswith("<"):
        text = f"<{text}>"
    match = _OUR_ID.fullmatch(text)
    if match is None:
        return None
    if domain is not None and match["domain"].lower() != domain.strip().lower():
        return None
    ref = match["ref"]
    return OurMessageId(None if ref == NO_REFERENCE else ref, match["purpose"])


# The classification reason of mail an upstream filter marked as spam: logged, never answered,
# no issue opened, and listed for the administrators in the daily digest.
SPAM_ROUTE = "spam-marked"
# The event of a triage request or update not sent because its sender passed the daily cap.
TRIAGE_HELD_EVENT = "triage-mail-held"
TRIAGE_PURPOSE_PREFIX = "triage-"  # purpose of every email carrying an administrator's token


def token_in_message_id(mid: str, domain: str) -> tuple[str, str] | None:
    """(reference, token) when `mid` is one of our emails that carried an administrator's token."""
    ours = parse_our_message_id(mid, domain)
    if ours and ours.reference and ours.purpose.startswith(TRIAGE_PURPOSE_PREFIX):
        return ours.reference, ours.purpose.removeprefix(TRIAGE_PURPOSE_PREFIX)
    return None
