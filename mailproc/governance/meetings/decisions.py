"""The decisions reply to an agenda: its lines to validated decisions. Pure: no database.

    ATTENDEES: Dr A Example, Dr B Sample
    APOLOGIES: Dr C Absent
    IFG-2026-0042: CLOSE The discharge template will list every medication change.
    IFG-2026-0043: DELEGATE prescribing by 2027-02-28
    ITEM 2: NOTE Sense-check of the new referral form: agreed with two changes

A heading (`ATTENDEES:`, `APOLOGIES:`, `<reference>:` or `ITEM n:`) starts a decision; its
text runs over the following lines until the next heading. After the last decision a blank
line ends the reply: what follows (a signature) is not read, and the confirmation says so.
After a reference comes exactly one triage command, read by the triage grammar itself.
Headings and keywords only in capitals. Any problem rejects the whole reply with one
`CommandError` naming the line.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date

from mailproc.triage.grammar import Command, CommandError, Vocabulary, parse_commands

_ITEM = re.compile(r"ITEM\s+([0-9]{1,3})\s*:\s*(.*)")
_NAMES = re.compile(r"(ATTENDEES|APOLOGIES)\s*:\s*(.*)")
# A line that looks like a heading (capitals, digits and dashes, then a colon): if it is not
# a valid one it is a typo, never text.
_HEADING_LIKE = re.compile(r"[A-Z][A-Z0-9-]+(?:\s+[0-9]+)?\s*:")
_SIGNATURE = re.compile(r"--\s*")
VALID = (
    "Begin each line with ATTENDEES:, APOLOGIES:, an issue reference and a colon followed by one "
    "triage keyword (e.g. IFG-2026-0042: CLOSE <outcome>), or ITEM n: NOTE <text>."
)


@dataclass(frozen=True)
class IssueDecision:
    """One triage command for one issue, with the line of the reply it came from."""

    reference: str
    command: Command


@dataclass(frozen=True)
class ItemNote:
    """`ITEM n: NOTE text` for an agenda item that is not an issue."""

    number: int
    text: str
    line_no: int
    line: str


@dataclass(frozen=True)
class Decisions:
    """A whole decisions reply; attendees and apologies are None when the reply names none."""

    attendees: tuple[str, ...] | None
    apologies: tuple[str, ...] | None
    issues: tuple[IssueDecision, ...]
    items: tuple[ItemNote, ...]
    ignored: tuple[str, ...] = ()  # the lines after the blank line that ends the last decision


@dataclass
class _Block:
    kind: str  # "ATTENDEES", "APOLOGIES", "ISSUE" or "ITEM"
    key: str  # the reference or the item number
    first: str  # the text after the heading
    line_no: int
    line: str
    more: list[tuple[int, str]] = field(default_factory=list)


def parse_decisions(text: str, vocab: Vocabulary, today: date) -> Decisions:
    """Read the visible text of a decisions reply; raise CommandError naming the line."""
    blocks = _blocks(text.splitlines(), vocab)
    ignored = _cut_tail(blocks[-1]) if blocks else ()
    if not blocks:
        raise CommandError(None, "", "no decisions found: the reply is empty", VALID)
    names: dict[str, tuple[str, ...]] = {}
    issues: list[IssueDecision] = []
    items: list[ItemNote] = []
    for block in blocks:
        if block.kind in ("ATTENDEES", "APOLOGIES"):
            names[block.kind] = names.get(block.kind, ()) + _names(block)
        elif block.kind == "ITEM":
            items.append(_item(block))
        else:
            issues.append(IssueDecision(block.key, _command(block, vocab, today)))
    return Decisions(names.get("ATTENDEES"), names.get("APOLOGIES"), tuple(issues), tuple(items), ignored)


def _cut_tail(last: _Block) -> tuple[str, ...]:
    """End the last decision at its first blank line; the lines after it are not read."""
    blank = next((i for i, (_, text) in enumerate(last.more) if not text), None)
    if blank is None:
        return ()
    tail = tuple(text for _, text in last.more[blank:] if text)
    del last.more[blank:]
    return tail


def _blocks(lines: list[str], vocab: Vocabulary) -> list[_Block]:
    reference = re.compile(rf"({vocab.reference_pattern})\s*:\s*(.*)")
    blocks: list[_Block] = []
    for index, raw in enumerate(lines):
        clean = raw.strip()
        if clean.startswith(">") or _SIGNATURE.fullmatch(clean):
            break  # quoted text or a signature: never read as decisions
        heading = _heading(clean, reference)
        if heading is not None:
            kind, key, first = heading
            blocks.append(_Block(kind, key, first, index + 1, raw))
            continue
        if not clean:
            if blocks:
                blocks[-1].more.append((index + 1, ""))
            continue
        if _HEADING_LIKE.match(clean):
            raise CommandError(index + 1, raw, "this is not a heading the decisions reply knows", VALID)
        if not blocks:
            raise CommandError(index + 1, raw, "the reply must begin with a decision", VALID)
        blocks[-1].more.append((index + 1, clean))
    return blocks


def _heading(clean: str, reference: re.Pattern[str]) -> tuple[str, str, str] | None:
    if match := _NAMES.fullmatch(clean):
        return match[1], "", match[2].strip()
    if match := _ITEM.fullmatch(clean):
        return "ITEM", match[1], match[2].strip()
    if match := reference.fullmatch(clean):
        return "ISSUE", match[1], match[2].strip()
    return None


def _names(block: _Block) -> tuple[str, ...]:
    text = " ".join(part for part in (block.first, *(t for _, t in block.more)) if part)
    return tuple(name.strip() for name in re.split(r"[,;]", text) if name.strip())


def _item(block: _Block) -> ItemNote:
    keyword, _, rest = block.first.partition(" ")
    if keyword.rstrip(":") != "NOTE":
        raise CommandError(
            block.line_no, block.line, f'an item takes NOTE, not "{keyword}"', "Write ITEM n: NOTE <text>."
        )
    text = "\n".join(part for part in (rest.strip(), *(t for _, t in block.more)) if part).strip()
    if not text:
        raise CommandError(block.line_no, block.line, "NOTE needs text", "Write ITEM n: NOTE <text>.")
    return ItemNote(int(block.key), text, block.line_no, block.line)


def _command(block: _Block, vocab: Vocabulary, today: date) -> Command:
    """Exactly one triage command from the text after the reference, with the reply's line
    numbers (the triage grammar numbers the lines it is given from 1)."""
    lines = [(block.line_no, block.first), *((no, t) for no, t in block.more if t)]
    if not block.first:
        raise CommandError(block.line_no, block.line, "a triage keyword must follow the reference", VALID)
    try:
        parsed = parse_commands("\n".join(t for _, t in lines), vocab, today)
    except CommandError as exc:
        no, line = _original(lines, exc.line_no, block)
        raise CommandError(no, line, exc.reason, exc.valid) from None
    if len(parsed.commands) != 1 or parsed.ignored:
        raise CommandError(
            block.line_no, block.line, "give exactly one keyword per reference", "Write each on its own line."
        )
    found = parsed.commands[0]
    no, line = _original(lines, found.line_no, block)
    return dataclasses.replace(found, line_no=no, line=line)


def _original(lines: list[tuple[int, str]], given: int | None, block: _Block) -> tuple[int, str]:
    if given is None or not 1 <= given <= len(lines) or given == 1:
        return block.line_no, block.line
    return lines[given - 1]
