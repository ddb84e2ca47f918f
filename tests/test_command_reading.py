"""How a command email is read, end to end of the text path: parse → visible reply → grammar.

Property: whatever an administrator writes above the quoted triage request, and whatever
the quoted part holds (the cheat-sheet, commands, junk), nothing from the quoted part is
ever executed, and reading never fails with anything but a CommandError.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mailproc.intake.parsing.parser import parse
from mailproc.intake.replytrim import visible_reply
from mailproc.triage.grammar import CHEAT_SHEET, CommandError, Vocabulary, parse_commands
from tests.mailfactory import make_message

VOCAB = Vocabulary(
    areas=("prescribing", "discharge"), groups=("prescribing",), reference_pattern=r"IFG-\d{4}-\d{4,}"
)
TODAY = date(2026, 11, 21)
QUOTED_COMMANDS = ["CLOSE fixed by magic", "DECLINE not ours", "ESCALATE now", "DUPLICATE IFG-2026-0001"]

OUTLOOK_QUOTE = (
    "\n\n________________________________\n"
    "From: NHS Test Interface Group <interface.group@example.nhs.scot>\n"
    "Sent: 03 March 2026 09:15\nTo: Jane Admin <admin@example.nhs.scot>\n"
    "Subject: [IFG-2026-0042 #aosd-abcdefghijklmnop] Triage: Discharge letters\n\n"
)
GMAIL_QUOTE = (
    "\n\nOn Tue, 3 Mar 2026 at 09:15, NHS Test Interface Group <interface.group@example.nhs.scot> wrote:\n"
)


def _read(raw: bytes) -> list[str]:
    msg = parse(raw)
    try:
        parsed = parse_commands(visible_reply(msg.first_text or msg.text), VOCAB, TODAY)
    except CommandError:
        return []
    return [c.keyword for c in parsed.commands]


@settings(max_examples=150, deadline=None)
@given(
    above=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
    quoted=st.lists(st.sampled_from(QUOTED_COMMANDS), min_size=1, max_size=4),
    gmail=st.booleans(),
)
def test_quoted_commands_never_execute(above: str, quoted: list[str], gmail: bool) -> None:
    if gmail:
        body = above + GMAIL_QUOTE + "".join(f"> {line}\n" for line in [*quoted, *CHEAT_SHEET.splitlines()])
    else:
        body = above + OUTLOOK_QUOTE + "\n".join([*quoted, CHEAT_SHEET])
    executed = _read(make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body))
    for command in quoted:
        keyword = command.split()[0]
        assert keyword not in executed or keyword in above.upper()


def test_one_line_above_the_quote_is_all_that_runs() -> None:
    body = "ACCEPT prescribing\n\nThanks, Jane" + OUTLOOK_QUOTE + "\n".join([*QUOTED_COMMANDS, CHEAT_SHEET])
    assert _read(make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body)) == ["ACCEPT"]


def test_an_empty_reply_runs_nothing() -> None:
    body = OUTLOOK_QUOTE + "\n".join([*QUOTED_COMMANDS, CHEAT_SHEET])
    assert _read(make_message(from_="admin@example.nhs.scot", subject="RE: triage", body=body)) == []
