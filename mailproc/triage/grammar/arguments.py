"""What follows each keyword: the argument parsers and the table the cheat-sheet is built from.

Pure: no database, no network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

PRIORITIES: tuple[str, ...] = ("high", "medium", "low")
MAX_TITLE_CHARS = 200
WITH_TEXT = "WITH TEXT"  # the last argument of a DELEGATE that forwards the submitter's text
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Vocabulary:
    """The configured words commands may use: interface areas, delegation groups, references."""

    areas: tuple[str, ...]
    groups: tuple[str, ...]
    reference_pattern: str

    def __post_init__(self) -> None:
        # A broken pattern is a configuration bug; fail when the vocabulary is built, not
        # later while an administrator's reply is being read.
        try:
            re.compile(self.reference_pattern)
        except re.error as exc:
            raise ValueError(f"reference_pattern is not a valid regular expression: {exc}") from exc


class Invalid(Exception):
    """Raised by an argument parser; turned into a CommandError naming the keyword's line."""

    def __init__(self, reason: str, valid: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.valid = valid


Args = tuple[tuple[str, ...], str]
ArgParser = Callable[[str, Vocabulary, date], Args]


def _norm_key(value: str) -> str:
    # "Primary care role", "primary_care_role" and "PRIMARY-CARE-ROLE." all name one area.
    return re.sub(r"[\s_-]+", "-", value.strip().rstrip(".").lower())


def _lookup(value: str, choices: tuple[str, ...], what: str) -> str:
    wanted = _norm_key(value)
    for choice in choices:
        if _norm_key(choice) == wanted:
            return choice
    listed = ", ".join(choices) if choices else "(none are configured)"
    raise Invalid(f'"{value}" is not a known {what}', f"Valid {what}s: {listed}.")


def _date_not_past(value: str, today: date) -> str:
    text = value.strip().rstrip(".")
    if not _ISO_DATE.fullmatch(text):
        raise Invalid(f'"{value}" is not a date in the form YYYY-MM-DD')
    try:
        when = date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text} is not a real date") from None
    if when < today:
        raise Invalid(f"{text} is in the past (today is {today.isoformat()})")
    return when.isoformat()


def is_iso_date(value: str) -> bool:
    return bool(_ISO_DATE.fullmatch(value))


def _accept(rest: str, vocab: Vocabulary, today: date) -> Args:
    return _area(rest, vocab, today) if rest else ((), "")


def _area(rest: str, vocab: Vocabulary, today: date) -> Args:
    if not rest:
        raise Invalid("needs an interface area", f"Valid areas: {', '.join(vocab.areas)}.")
    return (_lookup(rest, vocab.areas, "area"),), ""


def _meeting(rest: str, vocab: Vocabulary, today: date) -> Args:
    if not rest:
        raise Invalid("needs the meeting date")
    return (_date_not_past(rest, today),), ""


def _required_text(rest: str, vocab: Vocabulary, today: date) -> Args:
    if not rest:
        raise Invalid("needs text after the keyword")
    return (), rest


def _optional_text(rest: str, vocab: Vocabulary, today: date) -> Args:
    return (), rest


def _one_line(rest: str, vocab: Vocabulary, today: date) -> Args:
    # A title or public summary is shown on one line: its lines are joined with spaces.
    text = " ".join(rest.split())
    if not text:
        raise Invalid("needs text after the keyword")
    if len(text) > MAX_TITLE_CHARS:
        raise Invalid(
            f"text is longer than {MAX_TITLE_CHARS} characters", "Shorten it to a one-line summary."
        )
    return (), text


def _delegate(rest: str, vocab: Vocabulary, today: date) -> Args:
    words = rest.split()
    if not words:
        listed = ", ".join(vocab.groups) or "(none are configured)"
        raise Invalid("needs a group", f"Valid groups: {listed}.")
    group = _lookup(words[0], vocab.groups, "group")
    after = words[1:]
    forward = [w.upper() for w in after[-2:]] == WITH_TEXT.split()
    if forward:
        after = after[:-2]
    # "by" is what the cheat-sheet shows; a bare date after the group is just as clear.
    if after and after[0].lower() == "by":
        after = after[1:]
        if not after:
            raise Invalid('"by" needs a date in the form YYYY-MM-DD')
    if len(after) > 1:
        raise Invalid(f'has unexpected words after the group: "{" ".join(after)}"')
    dated = (_date_not_past(after[0], today),) if after else ()
    return (group, *dated, *((WITH_TEXT,) if forward else ())), ""


def _duplicate(rest: str, vocab: Vocabulary, today: date) -> Args:
    reference = rest.strip().rstrip(".").upper()
    if not reference or not re.fullmatch(vocab.reference_pattern, reference):
        shown = f'"{rest}" is not' if rest else "needs"
        raise Invalid(
            f"{shown} an issue reference",
            "Write DUPLICATE followed by the other issue's reference, as shown in square "
            "brackets in its subject line.",
        )
    return (reference,), ""


def _priority(rest: str, vocab: Vocabulary, today: date) -> Args:
    value = rest.strip().rstrip(".").lower()
    if value not in PRIORITIES:
        raise Invalid(f'needs high, medium or low, not "{rest}"' if rest else "needs a level")
    return (value,), ""


def _nothing(rest: str, vocab: Vocabulary, today: date) -> Args:
    if rest:
        raise Invalid(f'takes nothing after it, but got "{rest}"')
    return (), ""


# keyword -> (syntax, what it does, argument parser); the cheat-sheet is built from this table
# so that the help and the grammar cannot drift apart.
SPECS: dict[str, tuple[str, str, ArgParser]] = {
    "ACCEPT": ("ACCEPT [area]", "accept the issue; optionally set its interface area", _accept),
    "AREA": ("AREA <area>", "set the interface area", _area),
    "TITLE": ("TITLE <text>", "set the working title (admin mail and CLI)", _one_line),
    "MEETING": ("MEETING <YYYY-MM-DD>", "schedule for the meeting on that date", _meeting),
    "INFO": ("INFO <question>", "ask the submitter for more information", _required_text),
    "DECLINE": ("DECLINE <reason>", "decline; the submitter is told why", _required_text),
    "DELEGATE": (
        "DELEGATE <group> [by YYYY-MM-DD] [WITH TEXT]",
        "delegate; WITH TEXT also sends the submitter's text, redacted",
        _delegate,
    ),
    "ESCALATE": ("ESCALATE [reason]", "send up the escalation route", _optional_text),
    "DUPLICATE": ("DUPLICATE <REF>", "merge into another issue", _duplicate),
    "PUBLISH": ("PUBLISH <public summary>", "show on the register under that summary", _one_line),
    "UNPUBLISH": ("UNPUBLISH", "take the issue off the register", _nothing),
    "CLOSE": ("CLOSE <outcome>", "close; the outcome goes to submitter and lists", _required_text),
    "NOTE": ("NOTE <text>", "add an internal note", _required_text),
    "PRIORITY": ("PRIORITY high|medium|low", "set the priority", _priority),
    "UNDO": ("UNDO", "undo your last command (and stop its list mail while it waits)", _nothing),
}
KEYWORDS: tuple[str, ...] = tuple(SPECS)
# Only these carry free text, so only these may continue onto the following lines.
TEXT_KEYWORDS: frozenset[str] = frozenset(
    {"INFO", "DECLINE", "CLOSE", "NOTE", "ESCALATE", "PUBLISH", "TITLE"}
)
