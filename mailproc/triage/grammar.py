"""The triage keyword grammar: the visible text of a reply (or CLI words) to validated commands.

Pure: no database, no network. The rules are those of DESIGN.md, "Triage keywords". Any
problem rejects the whole text with one `CommandError` naming the line, so that nothing is
half-applied and a misspelt command never passes silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

# fmt: off
KEYWORDS: tuple[str, ...] = (
    "ACCEPT", "AREA", "MEETING", "INFO", "DECLINE", "DELEGATE",
    "ESCALATE", "DUPLICATE", "CLOSE", "NOTE", "PRIORITY", "UNDO",
)
# fmt: on
# Only these carry free text, so only these may continue onto the following lines.
TEXT_KEYWORDS: frozenset[str] = frozenset({"INFO", "DECLINE", "CLOSE", "NOTE", "ESCALATE"})
PRIORITIES: tuple[str, ...] = ("high", "medium", "low")
MAX_COMMANDS = 20
MAX_LINE_CHARS = 2000

# Mail clients (Outlook especially) insert characters the writer never sees; a keyword must
# still be recognised when they sit next to it.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"
_ODD_SPACES = "\xa0\u2007\u202f"
_CLEAN_TABLE: dict[int, str | None] = {
    **{ord(c): None for c in _INVISIBLE},
    **{ord(c): " " for c in _ODD_SPACES},
}
# ASCII letters only: str.upper() maps some non-ASCII letters ("ı", "ﬁ") onto ASCII ones, and a
# keyword must be exactly what the user typed.
_KEYWORD_LINE = re.compile(r"([A-Za-z]+)(?=[\s:]|$)\s*:?\s*(.*)")
_CAPITAL_WORD = re.compile(r"[A-Z]{2,}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KEYWORD_LIST = "Valid keywords: " + ", ".join(KEYWORDS) + "."


@dataclass(frozen=True)
class Command:
    """One validated command: keyword, positional arguments and free text."""

    keyword: str
    args: tuple[str, ...]
    text: str
    line_no: int
    line: str


@dataclass(frozen=True)
class ParsedReply:
    """The commands of a reply, and the non-blank lines after the block (not executed)."""

    commands: tuple[Command, ...]
    ignored: tuple[str, ...]


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


class CommandError(ValueError):
    """A reply or CLI command that cannot be executed; `str()` tells the user what to change."""

    def __init__(self, line_no: int | None, line: str, reason: str, valid: str) -> None:
        self.line_no = line_no
        self.line = line
        self.reason = reason
        self.valid = valid
        super().__init__(_sentence(line_no, line, reason, valid))


def _sentence(line_no: int | None, line: str, reason: str, valid: str) -> str:
    shown = _clean(line)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    where = f"Line {line_no}" if line_no is not None else ""
    if shown:
        where = f'{where} ("{shown}")' if where else f'"{shown}"'
    message = f"{where}: {reason}." if where else f"{reason[:1].upper()}{reason[1:]}."
    return f"{message} {valid}".strip()


class _Invalid(Exception):
    """Raised by an argument parser; turned into a CommandError naming the keyword's line."""

    def __init__(self, reason: str, valid: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.valid = valid


_Args = tuple[tuple[str, ...], str]
_ArgParser = Callable[[str, Vocabulary, date], _Args]


@dataclass(frozen=True)
class _Line:
    no: int
    raw: str
    clean: str


@dataclass
class _Pending:
    keyword: str
    rest: str
    line: _Line
    more: list[str] = field(default_factory=list)


def _clean(line: str) -> str:
    return line.translate(_CLEAN_TABLE).strip()


def _norm_key(value: str) -> str:
    # "Primary care role", "primary_care_role" and "PRIMARY-CARE-ROLE." all name one area.
    return re.sub(r"[\s_-]+", "-", value.strip().rstrip(".").lower())


def _lookup(value: str, choices: tuple[str, ...], what: str) -> str:
    wanted = _norm_key(value)
    for choice in choices:
        if _norm_key(choice) == wanted:
            return choice
    listed = ", ".join(choices) if choices else "(none are configured)"
    raise _Invalid(f'"{value}" is not a known {what}', f"Valid {what}s: {listed}.")


def _date_not_past(value: str, today: date) -> str:
    text = value.strip().rstrip(".")
    if not _ISO_DATE.fullmatch(text):
        raise _Invalid(f'"{value}" is not a date in the form YYYY-MM-DD')
    try:
        when = date.fromisoformat(text)
    except ValueError:
        raise _Invalid(f"{text} is not a real date") from None
    if when < today:
        raise _Invalid(f"{text} is in the past (today is {today.isoformat()})")
    return when.isoformat()


def _accept(rest: str, vocab: Vocabulary, today: date) -> _Args:
    return _area(rest, vocab, today) if rest else ((), "")


def _area(rest: str, vocab: Vocabulary, today: date) -> _Args:
    if not rest:
        raise _Invalid("needs an interface area", f"Valid areas: {', '.join(vocab.areas)}.")
    return (_lookup(rest, vocab.areas, "area"),), ""


def _meeting(rest: str, vocab: Vocabulary, today: date) -> _Args:
    if not rest:
        raise _Invalid("needs the meeting date")
    return (_date_not_past(rest, today),), ""


def _required_text(rest: str, vocab: Vocabulary, today: date) -> _Args:
    if not rest:
        raise _Invalid("needs text after the keyword")
    return (), rest


def _optional_text(rest: str, vocab: Vocabulary, today: date) -> _Args:
    return (), rest


def _delegate(rest: str, vocab: Vocabulary, today: date) -> _Args:
    words = rest.split()
    if not words:
        listed = ", ".join(vocab.groups) or "(none are configured)"
        raise _Invalid("needs a group", f"Valid groups: {listed}.")
    group = _lookup(words[0], vocab.groups, "group")
    after = words[1:]
    # "by" is what the cheat-sheet shows; a bare date after the group is just as clear.
    if after and after[0].lower() == "by":
        after = after[1:]
        if not after:
            raise _Invalid('"by" needs a date in the form YYYY-MM-DD')
    if not after:
        return (group,), ""
    if len(after) > 1:
        raise _Invalid(f'has unexpected words after the group: "{" ".join(after)}"')
    return (group, _date_not_past(after[0], today)), ""


def _duplicate(rest: str, vocab: Vocabulary, today: date) -> _Args:
    reference = rest.strip().rstrip(".").upper()
    if not reference or not re.fullmatch(vocab.reference_pattern, reference):
        shown = f'"{rest}" is not' if rest else "needs"
        raise _Invalid(
            f"{shown} an issue reference",
            "Write DUPLICATE followed by the other issue's reference, as shown in square "
            "brackets in its subject line.",
        )
    return (reference,), ""


def _priority(rest: str, vocab: Vocabulary, today: date) -> _Args:
    value = rest.strip().rstrip(".").lower()
    if value not in PRIORITIES:
        raise _Invalid(f'needs high, medium or low, not "{rest}"' if rest else "needs a level")
    return (value,), ""


def _undo(rest: str, vocab: Vocabulary, today: date) -> _Args:
    if rest:
        raise _Invalid(f'takes nothing after it, but got "{rest}"')
    return (), ""


# keyword -> (syntax, what it does, argument parser); the cheat-sheet is built from this table
# so that the help and the grammar cannot drift apart.
_SPECS: dict[str, tuple[str, str, _ArgParser]] = {
    "ACCEPT": ("ACCEPT [area]", "accept the issue; optionally set its interface area", _accept),
    "AREA": ("AREA <area>", "set the interface area", _area),
    "MEETING": ("MEETING <YYYY-MM-DD>", "schedule for the meeting on that date", _meeting),
    "INFO": ("INFO <question>", "ask the submitter for more information", _required_text),
    "DECLINE": ("DECLINE <reason>", "decline; the submitter is told why", _required_text),
    "DELEGATE": (
        "DELEGATE <group> [by YYYY-MM-DD]",
        "delegate to an operational group",
        _delegate,
    ),
    "ESCALATE": ("ESCALATE [reason]", "send up the escalation route", _optional_text),
    "DUPLICATE": ("DUPLICATE <REF>", "merge into another issue", _duplicate),
    "CLOSE": ("CLOSE <outcome>", "close; the outcome goes to submitter and lists", _required_text),
    "NOTE": ("NOTE <text>", "add an internal note", _required_text),
    "PRIORITY": ("PRIORITY high|medium|low", "set the priority", _priority),
    "UNDO": ("UNDO", "undo the last command applied to this issue", _undo),
}

CHEAT_SHEET: str = "\n".join(
    [
        "Reply above the quoted text, one command per line (any case):",
        *(f"  {syntax:<34} {what}" for syntax, what, _ in _SPECS.values()),
        "The text of INFO, DECLINE, CLOSE, NOTE and ESCALATE may run on over further lines.",
        "A blank line ends the commands; anything below it is ignored.",
    ]
)


def parse_commands(text: str, vocab: Vocabulary, today: date) -> ParsedReply:
    """Read the visible text of a reply into commands; raise CommandError on any problem.

    `today` is the date past dates are judged against (the caller's local date).
    """
    block, ignored = _split_block(text.splitlines())
    pending = _group(block)
    return ParsedReply(tuple(_build(p, vocab, today) for p in pending), ignored)


def parse_cli(words: Sequence[str], vocab: Vocabulary, today: date) -> Command:
    """Read the words after the reference on the command line into exactly one command."""
    text = " ".join(words)
    if not _clean(text):
        raise CommandError(None, "", "no command given", _KEYWORD_LIST)
    try:
        reply = parse_commands(text, vocab, today)
    except CommandError as exc:
        # Line numbers mean nothing on a command line; keep the rest of the explanation.
        raise CommandError(None, exc.line, exc.reason, exc.valid) from None
    if len(reply.commands) != 1 or reply.ignored:
        raise CommandError(None, text, "give exactly one command", "Run triage once per command.")
    return reply.commands[0]


def _split_block(lines: list[str]) -> tuple[list[_Line], tuple[str, ...]]:
    start = next((i for i, line in enumerate(lines) if _clean(line)), None)
    if start is None:
        raise CommandError(None, "", "no command found: the reply is empty", _KEYWORD_LIST)
    block: list[_Line] = []
    for index in range(start, len(lines)):
        raw = lines[index]
        clean = _clean(raw)
        # Quoted text is never executed, even if a trimmer upstream missed it.
        if not clean or clean.startswith(">"):
            if not block:
                raise CommandError(index + 1, raw, "no command found above the quoted text", _KEYWORD_LIST)
            rest = (_clean(line) for line in lines[index:])
            return block, tuple(line for line in rest if line)
        if len(raw) > MAX_LINE_CHARS:
            raise CommandError(
                index + 1,
                raw[:80],
                f"the line is longer than {MAX_LINE_CHARS} characters",
                "Shorten it or split the text over several lines.",
            )
        block.append(_Line(index + 1, raw, clean))
    return block, ()


def _keyword_of(clean: str) -> tuple[str, str] | None:
    match = _KEYWORD_LINE.match(clean)
    if match and match[1].upper() in KEYWORDS:
        return match[1].upper(), match[2].strip()
    return None


def _group(block: list[_Line]) -> list[_Pending]:
    pending: list[_Pending] = []
    for line in block:
        found = _keyword_of(line.clean)
        if found:
            if len(pending) == MAX_COMMANDS:
                raise CommandError(
                    line.no,
                    line.raw,
                    f"too many commands (at most {MAX_COMMANDS} in one email)",
                    "Send the rest in another reply.",
                )
            pending.append(_Pending(found[0], found[1], line))
            continue
        _reject_capitalised(line)
        if not pending:
            raise _no_command(line)
        current = pending[-1]
        if current.keyword not in TEXT_KEYWORDS:
            raise CommandError(
                line.no,
                line.raw,
                f"{current.keyword} does not take text on further lines",
                "Start each command on its own line with a keyword, and leave a blank line "
                f"before any other text. Expected: {_SPECS[current.keyword][0]}.",
            )
        current.more.append(line.clean)
    return pending


def _first_word(clean: str) -> tuple[str, str]:
    """The first word as typed, and stripped of punctuation and plain-text emphasis."""
    typed = re.split(r"[\s:]", clean, maxsplit=1)[0]
    return typed, typed.strip("*_").rstrip(".,;:!?")


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(word.upper(), KEYWORDS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _reject_capitalised(line: _Line) -> None:
    # A capitalised first word is almost certainly a command; if it is not an exact keyword it
    # is a typo, and executing the rest of the reply without it could do the wrong thing.
    typed, word = _first_word(line.clean)
    if not _CAPITAL_WORD.fullmatch(word):
        return
    if word in KEYWORDS:
        reason = f'"{typed}" has extra characters around the keyword {word}'
        valid = f"Write {word} followed by a space or a colon. Expected: {_SPECS[word][0]}."
    else:
        reason = f'"{typed}" is not a keyword{_suggest(word)}'
        valid = _KEYWORD_LIST + " Write ordinary text in lower case or below a blank line."
    raise CommandError(line.no, line.raw, reason, valid)


def _no_command(line: _Line) -> CommandError:
    _, word = _first_word(line.clean)
    return CommandError(
        line.no,
        line.raw,
        f"no command found: the first line must begin with a keyword{_suggest(word)}",
        _KEYWORD_LIST,
    )


def _build(pending: _Pending, vocab: Vocabulary, today: date) -> Command:
    syntax, _, parse = _SPECS[pending.keyword]
    rest = "\n".join(part for part in (pending.rest, *pending.more) if part)
    try:
        args, text = parse(rest, vocab, today)
    except _Invalid as exc:
        raise CommandError(
            pending.line.no,
            pending.line.raw,
            f"{pending.keyword} {exc.reason}",
            exc.valid or f"Expected: {syntax}.",
        ) from None
    return Command(pending.keyword, args, text, pending.line.no, pending.line.raw)
