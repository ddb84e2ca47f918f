"""The decisions reply grammar on its own (pure): headings, text over lines, errors naming the line."""

from __future__ import annotations

from datetime import date

import pytest

from mailproc.governance.meetings.decisions import parse_decisions
from mailproc.triage.grammar import CommandError, Vocabulary
from mailproc.vocabulary import reference_pattern

VOCAB = Vocabulary(
    areas=("prescribing", "it"), groups=("prescribing",), reference_pattern=reference_pattern("IFG")
)
TODAY = date(2026, 3, 3)


def test_text_runs_over_lines_until_the_next_heading_and_a_blank_line_ends_the_last() -> None:
    reply = parse_decisions(
        "ATTENDEES: Dr A, Dr B;\n  Dr C\n"
        "IFG-2026-0042: CLOSE The template lists every change\n\nfrom 1 March.\n"
        "IFG-2026-0043: DELEGATE prescribing by 2026-04-30\n"
        "ITEM 2: NOTE agreed\nwith two changes\n\nJane\nSent from my phone\n",
        VOCAB,
        TODAY,
    )
    assert reply.attendees == ("Dr A", "Dr B", "Dr C") and reply.apologies is None
    close, delegate = reply.issues
    assert (close.reference, close.command.keyword, close.command.text) == (
        "IFG-2026-0042", "CLOSE", "The template lists every change\nfrom 1 March.",
    )  # fmt: skip
    assert close.command.line_no == 3
    assert (delegate.command.args, delegate.command.line_no) == (("prescribing", "2026-04-30"), 6)
    [item] = reply.items
    assert (item.number, item.text, item.line_no) == (2, "agreed\nwith two changes", 7)
    assert reply.ignored == ("Jane", "Sent from my phone")


def test_quoted_text_and_a_signature_line_end_the_reply() -> None:
    reply = parse_decisions("IFG-2026-0042: NOTE seen\n> IFG-2026-0043: CLOSE no\n", VOCAB, TODAY)
    assert [d.reference for d in reply.issues] == ["IFG-2026-0042"]
    reply = parse_decisions("IFG-2026-0042: NOTE seen\n-- \nIFG-2026-0043: CLOSE no\n", VOCAB, TODAY)
    assert [d.reference for d in reply.issues] == ["IFG-2026-0042"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("ATENDEES: Dr A\n", 1, "not a heading the decisions reply knows"),
        ("ATTENDEES: Dr A\nIFG-2026-042: CLOSE done\n", 2, "not a heading"),
        ("ATTENDEES: Dr A\nIFG-2026-0042: CLSOE done\n", 2, "did you mean CLOSE?"),
        ("IFG-2026-0042:\n", 1, "a triage keyword must follow the reference"),
        ("IFG-2026-0042: ACCEPT\nCLOSE done\n", 1, "exactly one keyword per reference"),
        ("IFG-2026-0042: DELEGATE prescribing\nby 2026-04-30\n", 2, "does not take text on further lines"),
        ("IFG-2026-0042: DELEGATE nobody\n", 1, '"nobody" is not a known group'),
        ("IFG-2026-0042: MEETING 2026-01-01\n", 1, "is in the past"),
        ("ITEM 2: DECIDE agreed\n", 1, 'an item takes NOTE, not "DECIDE"'),
        ("ITEM 2: NOTE\n", 1, "NOTE needs text"),
        ("Thanks all, decisions below\nIFG-2026-0042: NOTE x\n", 1, "the reply must begin with a decision"),
    ],
)
def test_any_problem_rejects_the_whole_reply_naming_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_decisions(text, VOCAB, TODAY)
    assert info.value.line_no == line and reason in str(info.value)
    assert str(info.value).startswith(f"Line {line} (")


def test_an_empty_reply_is_an_error() -> None:
    with pytest.raises(CommandError, match="No decisions found: the reply is empty"):
        parse_decisions("\n\n", VOCAB, TODAY)
