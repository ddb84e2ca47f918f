"""The triage keyword grammar: the visible text of a reply (or CLI words) to validated commands.

Pure: no database, no network. The rules are those of DESIGN.md, "Triage keywords": keywords
count only in CAPITALS at the start of a line; the first non-blank line must be a command; a
command's text runs on over further lines, blank ones included, until the next keyword line or
the end of the visible reply. Any problem rejects the whole text with one `CommandError` naming
the line, so that nothing is half-applied and a misspelt command never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from mailproc.triage.grammar.arguments import (
    KEYWORDS,
    PRIORITIES,
    SPECS,
    TEXT_KEYWORDS,
    WITH_TEXT,
    Invalid,
    Vocabulary,
    is_iso_date,
)
from mailproc.triage.grammar.lines import (
    KEYWORD_LIST,
    CommandError,
    Line,
    clean,
    keyword_of,
    no_command,
    reject_capitalised,
    signoff_start,
)

__all__ = [
    "CHEAT_SHEET", "KEYWORDS", "MAX_COMMANDS", "PRIORITIES", "TEXT_KEYWORDS", "WITH_TEXT", "Command",
    "CommandError", "ParsedReply", "Vocabulary", "is_iso_date", "parse_cli", "parse_commands",
]  # fmt: skip

MAX_COMMANDS = 20
MAX_LINE_CHARS = 2000


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
    """The commands of a reply, and the non-blank lines that were read but not executed
    (prose after a command without text, a sign-off, the quoted original)."""

    commands: tuple[Command, ...]
    ignored: tuple[str, ...]


@dataclass
class _Pending:
    keyword: str
    rest: str
    line: Line
    more: list[str] = field(default_factory=list)
    ended: bool = False  # a command without text met a blank line: what follows is not its


CHEAT_SHEET: str = "\n".join(
    [
        "Reply above the quoted text; start each command on its own line with a keyword in CAPITALS:",
        *(f"  {syntax:<44} {what}" for syntax, what, _ in SPECS.values()),
        "The text of INFO, DECLINE, CLOSE, NOTE, ESCALATE, PUBLISH and TITLE runs on over further",
        "lines, blank lines included, until the next line that starts with a keyword.",
        "Only CAPITALS count: a line starting 'Close the loop...' is text, and a reply whose first",
        "line is not a command does nothing. Mail to lists and groups waits a few minutes first:",
        "UNDO in that time stops it.",
    ]
)


def parse_commands(text: str, vocab: Vocabulary, today: date) -> ParsedReply:
    """Read the visible text of a reply into commands; raise CommandError on any problem.

    `today` is the date past dates are judged against (the caller's local date).
    """
    visible, quoted = _visible(text.splitlines())
    pending, ignored = _group(visible)
    ignored += _drop_signoff(pending)
    commands = tuple(_build(p, vocab, today) for p in pending)
    return ParsedReply(commands, tuple(ignored) + quoted)


def parse_cli(words: Sequence[str], vocab: Vocabulary, today: date) -> Command:
    """Read the words after the reference on the command line into exactly one command.

    The keyword may be typed in any case here: a command line is never prose.
    """
    words = list(words)
    if words and words[0].upper() in KEYWORDS:
        words[0] = words[0].upper()
    text = " ".join(words)
    if not clean(text):
        raise CommandError(None, "", "no command given", KEYWORD_LIST)
    try:
        reply = parse_commands(text, vocab, today)
    except CommandError as exc:
        # Line numbers mean nothing on a command line; keep the rest of the explanation.
        raise CommandError(None, exc.line, exc.reason, exc.valid) from None
    if len(reply.commands) != 1 or reply.ignored:
        raise CommandError(None, text, "give exactly one command", "Run triage once per command.")
    return reply.commands[0]


def _visible(lines: list[str]) -> tuple[list[Line], tuple[str, ...]]:
    """The lines above the first quoted one, and the quoted rest (never executed, even if a
    trimmer upstream missed it)."""
    visible: list[Line] = []
    for index, raw in enumerate(lines):
        cleaned = clean(raw)
        if cleaned.startswith(">"):
            if not any(line.clean for line in visible):
                raise CommandError(index + 1, raw, "no command found above the quoted text", KEYWORD_LIST)
            rest = (clean(line) for line in lines[index:])
            return visible, tuple(line for line in rest if line)
        if len(raw) > MAX_LINE_CHARS:
            raise CommandError(
                index + 1, raw[:80], f"the line is longer than {MAX_LINE_CHARS} characters",
                "Shorten it or split the text over several lines.",
            )  # fmt: skip
        visible.append(Line(index + 1, raw, cleaned))
    return visible, ()


def _group(lines: list[Line]) -> tuple[list[_Pending], list[str]]:
    body = [line for line in lines if line.clean]
    if not body:
        raise CommandError(None, "", "no command found: the reply is empty", KEYWORD_LIST)
    if keyword_of(body[0].clean) is None:
        reject_capitalised(body[0], allow_common=False)
        raise no_command(body[0])
    pending: list[_Pending] = []
    ignored: list[str] = []
    for line in lines[lines.index(body[0]) :]:
        found = keyword_of(line.clean)
        if found:
            if len(pending) == MAX_COMMANDS:
                raise CommandError(
                    line.no, line.raw, f"too many commands (at most {MAX_COMMANDS} in one email)",
                    "Send the rest in another reply.",
                )  # fmt: skip
            pending.append(_Pending(found[0], found[1], line))
        else:
            _continue(pending[-1], line, ignored)
    return pending, ignored


def _continue(current: _Pending, line: Line, ignored: list[str]) -> None:
    """A line that starts with no keyword: text of the command above it, or (after a blank
    line below a command that takes no text) prose that is not executed."""
    if line.clean:
        reject_capitalised(line, allow_common=True)
    if current.keyword in TEXT_KEYWORDS:
        current.more.append(line.clean)
        return
    if not line.clean:
        current.ended = True
        return
    if not current.ended:
        raise CommandError(
            line.no,
            line.raw,
            f"{current.keyword} does not take text on further lines",
            "Start each command on its own line with a keyword, and leave a blank line "
            f"before any other text. Expected: {SPECS[current.keyword][0]}.",
        )
    ignored.append(line.clean)


def _drop_signoff(pending: list[_Pending]) -> list[str]:
    """Take a sign-off ("Thanks,\\nJane") off the end of the last command's text: it was
    written to the group, not to the submitter or the lists."""
    last = pending[-1] if pending else None
    if last is None or last.keyword not in TEXT_KEYWORDS:
        return []
    at = signoff_start(last.more)
    if at is None:
        return []
    dropped = [text for text in last.more[at:] if text]
    del last.more[at:]
    return dropped


def _paragraphs(first: str, more: Sequence[str]) -> str:
    """The command's text: its lines as written, one blank line between paragraphs."""
    text = "\n".join((first, *more))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _build(pending: _Pending, vocab: Vocabulary, today: date) -> Command:
    syntax, _, parse = SPECS[pending.keyword]
    rest = _paragraphs(pending.rest, pending.more)
    try:
        args, text = parse(rest, vocab, today)
    except Invalid as exc:
        raise CommandError(
            pending.line.no,
            pending.line.raw,
            f"{pending.keyword} {exc.reason}",
            exc.valid or f"Expected: {syntax}.",
        ) from None
    return Command(pending.keyword, args, text, pending.line.no, pending.line.raw)
