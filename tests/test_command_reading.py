"""How a command email is read, end to end of the text path: parse → visible reply → grammar.

Property: whatever commands an administrator writes above the quoted triage request (with or
without a sign-off, and with or without a blank line before the quote), and whatever the
quoted part holds (the cheat-sheet, commands), exactly the commands written above it run,
with their own words: nothing from the quoted part is ever executed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from mailproc.intake.parsing.parser import parse
from mailproc.intake.replytrim import visible_reply
from mailproc.triage.grammar import CHEAT_SHEET, CommandError, Vocabulary, parse_commands
from tests.support.mail import make_message

VOCAB = Vocabulary(
    areas=("prescribing", "discharge"), groups=("prescribing",), reference_pattern=r"IFG-\d{4}-\d{4,}"
)
TODAY = date(2026, 11, 21)
QUOTED_COMMANDS = ["CLOSE fixed by magic", "DECLINE not ours", "ESCALATE now", "DUPLICATE IFG-2026-0001"]

# The quoted triage request as each client writes it below the reply, from its first line.
OUTLOOK_QUOTE = (
    "________________________________\n"
    "From: NHS Test Interface Group <interface.group@example.nhs.scot>\n"
    "Sent: 03 March 2026 09:15\nTo: Jane Admin <admin@example.nhs.scot>\n"
    "Subject: [IFG-2026-0042 #aosd-abcdefghijklmnop] Triage: Discharge letters\n\n"
)
GMAIL_QUOTE = (
    "On Tue, 3 Mar 2026 at 09:15, NHS Test Interface Group <interface.group@example.nhs.scot> wrote:\n"
)
# What an administrator may write above the quote: each line and the command it must give.
Expected = tuple[str, tuple[str, ...], str]  # keyword, args, text
WRITTEN: list[tuple[str, Expected]] = [
    ("ACCEPT", ("ACCEPT", (), "")),
    ("ACCEPT prescribing", ("ACCEPT", ("prescribing",), "")),
    ("AREA discharge", ("AREA", ("discharge",), "")),
    ("PRIORITY high", ("PRIORITY", ("high",), "")),
    ("MEETING 2026-12-03", ("MEETING", ("2026-12-03",), "")),
    ("DELEGATE prescribing by 2026-12-31", ("DELEGATE", ("prescribing", "2026-12-31"), "")),
    ("DUPLICATE IFG-2026-0007", ("DUPLICATE", ("IFG-2026-0007",), "")),
    ("NOTE spoke to the ward manager", ("NOTE", (), "spoke to the ward manager")),
    ("INFO which ward was it?", ("INFO", (), "which ward was it?")),
    ("CLOSE the ward now phones ahead", ("CLOSE", (), "the ward now phones ahead")),
    ("DECLINE not an interface matter", ("DECLINE", (), "not an interface matter")),
    ("ESCALATE", ("ESCALATE", (), "")),
    ("UNDO", ("UNDO", (), "")),
]
# A command's text runs to the end of the visible reply, so a sign-off that is not recognised
# as one ends up in the text; these are the usual forms, each recognised.
SIGN_OFFS = st.sampled_from(["Thanks, Jane", "Jane", "Kind regards,\nDr A Example", "Many thanks"])


def _read(raw: bytes) -> list[str]:
    msg = parse(raw)
    try:
        parsed = parse_commands(visible_reply(msg.first_text or msg.text), VOCAB, TODAY)
    except CommandError:
        return []
    return [c.keyword for c in parsed.commands]


def _commands(raw: bytes) -> list[Expected]:
    msg = parse(raw)
    parsed = parse_commands(visible_reply(msg.first_text or msg.text), VOCAB, TODAY)
    return [(c.keyword, c.args, c.text) for c in parsed.commands]


def _quote(gmail: bool, quoted: list[str]) -> str:
    """The triage request as the client quotes it below the reply, commands planted in it."""
    if gmail:
        return GMAIL_QUOTE + "".join(f"> {line}\n" for line in [*quoted, *CHEAT_SHEET.splitlines()])
    return OUTLOOK_QUOTE + "\n".join([*quoted, CHEAT_SHEET])


def _cased(line: str, case: Callable[[str], str]) -> str:
    keyword, _, rest = line.partition(" ")
    return f"{case(keyword)} {rest}".rstrip()


@settings(max_examples=150, deadline=None)
@given(
    written=st.lists(st.sampled_from(WRITTEN), min_size=1, max_size=4),
    case=st.sampled_from([str, str.lower, str.title]),
    sign_off=st.none() | SIGN_OFFS,
    gap=st.sampled_from(["\n", "\n\n"]),
    quoted=st.lists(st.sampled_from(QUOTED_COMMANDS), min_size=1, max_size=4),
    gmail=st.booleans(),
)
def test_quoted_commands_never_execute(
    written: list[tuple[str, Expected]],
    case: Callable[[str], str],
    sign_off: str | None,
    gap: str,
    quoted: list[str],
    gmail: bool,
) -> None:
    # Only the keyword's case varies: the arguments are checked as written.
    above = "\n".join(_cased(line, case) for line, _ in written)
    if sign_off is not None:
        above += f"\n\n{sign_off}"
    body = above + gap + _quote(gmail, quoted)
    event("gmail" if gmail else "outlook")
    event("signed off" if sign_off is not None else f"quote right below the commands, gap {gap!r}")
    note(f"body: {body!r}")
    raw = make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body)
    if case is not str:  # a keyword not in CAPITALS is prose: the reply is no command at all
        assert _read(raw) == []
        return
    assert _commands(raw) == [expected for _, expected in written]


def test_one_line_above_the_quote_is_all_that_runs() -> None:
    quote = OUTLOOK_QUOTE + "\n".join([*QUOTED_COMMANDS, CHEAT_SHEET])
    body = "ACCEPT prescribing\n\nThanks, Jane\n\n" + quote
    assert _read(make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body)) == ["ACCEPT"]


def test_an_empty_reply_runs_nothing() -> None:
    body = "\n\n" + OUTLOOK_QUOTE + "\n".join([*QUOTED_COMMANDS, CHEAT_SHEET])
    assert _read(make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body)) == []
