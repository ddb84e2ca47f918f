"""The triage keyword grammar: every keyword, the block rules, and what must never execute."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mailproc.triage.grammar import (
    CHEAT_SHEET,
    KEYWORDS,
    MAX_COMMANDS,
    Command,
    CommandError,
    ParsedReply,
    Vocabulary,
    parse_cli,
    parse_commands,
)

TODAY = date(2026, 3, 10)
VOCAB = Vocabulary(
    areas=(
        "discharge",
        "referrals",
        "communication",
        "results",
        "primary-care-role",
        "prescribing",
        "adverse-events",
        "quality-cluster",
        "inequity",
        "it",
    ),
    groups=("prescribing", "out-of-hours"),
    reference_pattern=r"IFG-\d{4}-\d{4,}",
)


def parse(text: str) -> ParsedReply:
    return parse_commands(text, VOCAB, TODAY)


def only(text: str) -> Command:
    reply = parse(text)
    assert len(reply.commands) == 1, reply
    return reply.commands[0]


def error(text: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse(text)
    return info.value


# --- every keyword, valid ---------------------------------------------------------------

VALID = [
    ("ACCEPT", "ACCEPT", (), ""),
    ("ACCEPT prescribing", "ACCEPT", ("prescribing",), ""),
    ("AREA results", "AREA", ("results",), ""),
    ("MEETING 2026-03-10", "MEETING", ("2026-03-10",), ""),
    ("MEETING 2026-12-03", "MEETING", ("2026-12-03",), ""),
    ("INFO Which ward was it?", "INFO", (), "Which ward was it?"),
    ("DECLINE Not an interface issue", "DECLINE", (), "Not an interface issue"),
    ("DELEGATE prescribing", "DELEGATE", ("prescribing",), ""),
    ("DELEGATE prescribing by 2026-12-31", "DELEGATE", ("prescribing", "2026-12-31"), ""),
    ("DELEGATE out-of-hours 2026-04-01", "DELEGATE", ("out-of-hours", "2026-04-01"), ""),
    ("ESCALATE", "ESCALATE", (), ""),
    ("ESCALATE repeated harm", "ESCALATE", (), "repeated harm"),
    ("DUPLICATE IFG-2026-0042", "DUPLICATE", ("IFG-2026-0042",), ""),
    ("DUPLICATE ifg-2026-0042", "DUPLICATE", ("IFG-2026-0042",), ""),
    ("CLOSE Letters now go electronically", "CLOSE", (), "Letters now go electronically"),
    ("NOTE phoned the ward", "NOTE", (), "phoned the ward"),
    ("PRIORITY high", "PRIORITY", ("high",), ""),
    ("PRIORITY Low", "PRIORITY", ("low",), ""),
    ("UNDO", "UNDO", (), ""),
    (
        "TITLE Discharge letters without medication changes",
        "TITLE",
        (),
        "Discharge letters without medication changes",
    ),
    (
        "PUBLISH Discharge letters list every medication change",
        "PUBLISH",
        (),
        "Discharge letters list every medication change",
    ),
    ("UNPUBLISH", "UNPUBLISH", (), ""),
    (
        "DELEGATE prescribing by 2026-12-31 WITH TEXT",
        "DELEGATE",
        ("prescribing", "2026-12-31", "WITH TEXT"),
        "",
    ),
    ("DELEGATE prescribing WITH TEXT", "DELEGATE", ("prescribing", "WITH TEXT"), ""),
]


@pytest.mark.parametrize(("line", "keyword", "args", "text"), VALID)
def test_every_keyword_valid(line: str, keyword: str, args: tuple[str, ...], text: str) -> None:
    command = only(line)
    assert (command.keyword, command.args, command.text) == (keyword, args, text)
    assert (command.line_no, command.line) == (1, line)


def test_valid_table_covers_every_keyword() -> None:
    assert {keyword for _, keyword, _, _ in VALID} == set(KEYWORDS)


# --- every keyword, invalid -------------------------------------------------------------

INVALID = [
    ("ACCEPT astrology", "not a known area"),
    ("AREA", "needs an interface area"),
    ("AREA astrology", "not a known area"),
    ("MEETING", "needs the meeting date"),
    ("MEETING next tuesday", "not a date in the form YYYY-MM-DD"),
    ("MEETING 2026-02-30", "not a real date"),
    ("MEETING 2026-03-09", "in the past"),
    ("MEETING 3/12/2026", "YYYY-MM-DD"),
    ("INFO", "needs text"),
    ("DECLINE", "needs text"),
    ("DELEGATE", "needs a group"),
    ("DELEGATE finance", "not a known group"),
    ("DELEGATE prescribing by", '"by" needs a date'),
    ("DELEGATE prescribing by 2025-01-01", "in the past"),
    ("DELEGATE prescribing by 2026-13-01", "not a real date"),
    ("DELEGATE prescribing soon please", "unexpected words"),
    ("DUPLICATE", "needs an issue reference"),
    ("DUPLICATE 42", "not an issue reference"),
    ("DUPLICATE IFG-2026-0042 and IFG-2026-0043", "not an issue reference"),
    ("CLOSE", "needs text"),
    ("NOTE", "needs text"),
    ("PRIORITY", "needs a level"),
    ("PRIORITY urgent", "needs high, medium or low"),
    ("UNDO that", "takes nothing after it"),
    ("TITLE", "needs text"),
    ("TITLE " + "x" * 201, "longer than 200 characters"),
    ("PUBLISH", "needs text"),
    ("UNPUBLISH now", "takes nothing after it"),
]


@pytest.mark.parametrize(("line", "fragment"), INVALID)
def test_every_keyword_invalid(line: str, fragment: str) -> None:
    exc = error(line)
    assert fragment in exc.reason
    assert exc.line_no == 1
    assert exc.line == line
    assert str(exc).startswith(f'Line 1 ("{line[:77]}')
    assert exc.valid


def test_invalid_table_covers_every_keyword_with_arguments() -> None:
    keywords = {line.split()[0] for line, _ in INVALID}
    assert keywords == set(KEYWORDS) - {"ESCALATE"}  # ESCALATE accepts anything, even nothing


def test_unknown_area_lists_the_valid_areas() -> None:
    exc = error("ACCEPT astrology")
    assert "primary-care-role" in exc.valid
    assert "prescribing" in str(exc)


def test_unknown_group_lists_the_configured_groups() -> None:
    assert "out-of-hours" in error("DELEGATE finance").valid


# --- spelling and case ------------------------------------------------------------------


@pytest.mark.parametrize("area", ["prescribing", "Prescribing", "PRESCRIBING"])
def test_areas_are_case_insensitive(area: str) -> None:
    command = only(f"ACCEPT {area}")
    assert (command.keyword, command.args) == ("ACCEPT", ("prescribing",))


@pytest.mark.parametrize(
    "line",
    [
        "Close the loop with ward 5 first, then we can discuss at the meeting.",
        "Info from the ward suggests the letter was never sent.",
        "accept prescribing",
        "Accept Prescribing",
        "aCcEpT PRESCRIBING",
        "Note to self: chase this",
    ],
)
def test_a_keyword_not_in_capitals_is_prose_and_no_command(line: str) -> None:
    exc = error(f"{line}\nCLOSE done")
    assert exc.line_no == 1
    assert "no command found" in exc.reason
    assert "CAPITALS" in exc.valid


def test_prose_below_a_command_is_its_text_not_a_command() -> None:
    command = only("NOTE spoke to the lead\nClose the loop with ward 5 first.\nInfo to follow.")
    assert command.text == "spoke to the lead\nClose the loop with ward 5 first.\nInfo to follow."


@pytest.mark.parametrize("line", ["ACCEPT: prescribing", "ACCEPT:prescribing", "ACCEPT : prescribing"])
def test_keyword_may_be_followed_by_a_colon(line: str) -> None:
    assert only(line).args == ("prescribing",)


@pytest.mark.parametrize(
    "spelling",
    ["primary care role", "Primary_Care_Role", "PRIMARY-CARE-ROLE", "primary-care-role."],
)
def test_areas_normalise_to_the_configured_spelling(spelling: str) -> None:
    assert only(f"AREA {spelling}").args == ("primary-care-role",)


def test_outlook_characters_are_tolerated() -> None:
    text = "\ufeff  \u200bACCEPT\xa0prescribing\r\nNOTE\u00a0phoned\u200d the ward\r\n"
    reply = parse(text)
    assert [(c.keyword, c.args, c.text) for c in reply.commands] == [
        ("ACCEPT", ("prescribing",), ""),
        ("NOTE", (), "phoned the ward"),
    ]


# --- block structure --------------------------------------------------------------------


def test_outlook_on_a_phone() -> None:
    reply = parse("ACCEPT prescribing\n\nSent from Outlook for iOS")
    assert [(c.keyword, c.args) for c in reply.commands] == [("ACCEPT", ("prescribing",))]
    assert reply.ignored == ("Sent from Outlook for iOS",)


def test_several_commands_with_line_numbers() -> None:
    reply = parse("\n\n  ACCEPT discharge\nPRIORITY high\nMEETING 2026-04-02\n")
    assert [(c.keyword, c.line_no) for c in reply.commands] == [
        ("ACCEPT", 3),
        ("PRIORITY", 4),
        ("MEETING", 5),
    ]
    assert reply.ignored == ()


def test_continuation_lines_join_the_text() -> None:
    reply = parse("CLOSE Letters now go electronically\nfrom 1 April,\nconfirmed by IT.\nUNDO")
    close, undo = reply.commands
    assert close.text == "Letters now go electronically\nfrom 1 April,\nconfirmed by IT."
    assert close.line_no == 1
    assert undo.keyword == "UNDO"


def test_required_text_may_start_on_the_next_line() -> None:
    assert only("INFO\nWhich ward discharged the patient?").text == ("Which ward discharged the patient?")


@pytest.mark.parametrize("keyword", ["INFO x", "DECLINE x", "CLOSE x", "NOTE x", "ESCALATE"])
def test_text_keywords_take_continuation_lines(keyword: str) -> None:
    assert only(f"{keyword}\nmore words").text.endswith("more words")


@pytest.mark.parametrize(
    "first",
    [
        "ACCEPT",
        "AREA it",
        "MEETING 2026-04-02",
        "DELEGATE prescribing",
        "DUPLICATE IFG-2026-0042",
        "PRIORITY high",
        "UNDO",
    ],
)
def test_other_keywords_reject_continuation_lines(first: str) -> None:
    exc = error(f"{first}\nthanks very much")
    assert exc.line_no == 2
    assert "does not take text on further lines" in exc.reason


def test_prose_after_a_blank_line_below_a_command_without_text_is_ignored() -> None:
    reply = parse("ACCEPT it\n\nThanks,\n  Dr Example\n\nCLOSE everything\n")
    assert [c.keyword for c in reply.commands] == ["ACCEPT", "CLOSE"]
    assert reply.ignored == ("Thanks,", "Dr Example")
    assert reply.commands[1].text == "everything"


def test_a_commands_text_runs_over_blank_lines_to_the_next_keyword() -> None:
    text = (
        "CLOSE The discharge template now lists every medication change.\n\n"
        "GP practices will see the change from 1 March.\n\n\n"
        "CHI numbers stay out of the template.\nNOTE agreed at the meeting"
    )
    close, note = parse(text).commands
    assert close.text == (
        "The discharge template now lists every medication change.\n\n"
        "GP practices will see the change from 1 March.\n\n"
        "CHI numbers stay out of the template."
    )
    assert note.text == "agreed at the meeting"


@pytest.mark.parametrize("signoff", ["Thanks,\nJane", "Kind regards\nDr A Example", "Jane", "Many thanks"])
def test_a_signoff_below_the_last_text_is_not_part_of_it(signoff: str) -> None:
    reply = parse(f"CLOSE First paragraph.\n\nSecond paragraph.\n\n{signoff}\n")
    assert reply.commands[0].text == "First paragraph.\n\nSecond paragraph."
    assert reply.ignored == tuple(signoff.splitlines())


def test_capitalised_non_keyword_after_a_blank_line_is_still_an_error() -> None:
    exc = error("CLOSE done\n\nFROBNICATE now")
    assert exc.line_no == 3
    assert '"FROBNICATE" is not a keyword' in exc.reason


@pytest.mark.parametrize("word", ["GP", "CHI", "NHS", "IDL", "A&E", "ED"])
def test_common_capitalised_words_start_continuation_lines(word: str) -> None:
    assert only(f"NOTE checked\n{word} said the letter arrived").text.endswith("letter arrived")


def test_quoted_line_ends_the_block() -> None:
    reply = parse("NOTE checked\n> CLOSE quoted\nDECLINE after the quote")
    assert [c.keyword for c in reply.commands] == ["NOTE"]
    assert reply.ignored == ("> CLOSE quoted", "DECLINE after the quote")


def test_only_quoted_text_is_no_command() -> None:
    exc = error("> ACCEPT prescribing")
    assert "no command found" in exc.reason
    assert exc.line_no == 1


@pytest.mark.parametrize("text", ["", "   \n\xa0\n\r\n"])
def test_empty_reply_is_no_command(text: str) -> None:
    exc = error(text)
    assert exc.line_no is None
    assert "no command found" in exc.reason
    assert str(exc).startswith("No command found")
    assert "ACCEPT" in exc.valid


def test_first_line_must_be_a_keyword() -> None:
    exc = error("Happy to accept this one\nACCEPT")
    assert exc.line_no == 1
    assert "no command found" in exc.reason
    assert all(keyword in exc.valid for keyword in KEYWORDS)


def test_no_command_suggests_a_close_keyword() -> None:
    assert "did you mean ACCEPT?" in error("Accpet prescribing").reason
    assert "did you mean CLOSE?" in error("Close the loop with ward 5 first").reason


# --- misspelt commands never pass silently ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line_no", "suggestion"),
    [
        ("ACCPET prescribing", 1, "ACCEPT"),
        ("ACCEPT it\nPRIORTY high", 2, "PRIORITY"),
        ("NOTE phoned\nDELGATE prescribing", 2, "DELEGATE"),
        ("NOTE phoned\nESCALTE: now", 2, "ESCALATE"),
    ],
)
def test_misspelt_keyword_names_line_and_suggestion(text: str, line_no: int, suggestion: str) -> None:
    exc = error(text)
    assert exc.line_no == line_no
    assert exc.line == text.splitlines()[line_no - 1]
    assert f"did you mean {suggestion}?" in str(exc)
    assert str(exc).startswith(f"Line {line_no} (")


def test_capitalised_non_keyword_in_continuation_is_an_error() -> None:
    exc = error("NOTE spoke to the lead\nFROBNICATE now")
    assert exc.line_no == 2
    assert '"FROBNICATE" is not a keyword' in exc.reason


@pytest.mark.parametrize("line", ["ACCEPT.", "*ACCEPT* prescribing", "UNDO!"])
def test_keyword_with_punctuation_is_an_error_not_ignored(line: str) -> None:
    exc = error(line)
    assert "extra characters around the keyword" in exc.reason


def test_single_capital_and_mixed_case_continuations_are_text() -> None:
    assert only("NOTE spoke to lead\nI will chase\nWard 4 agreed").text.count("\n") == 2


# --- limits -----------------------------------------------------------------------------


def test_too_many_commands() -> None:
    exc = error("\n".join(["NOTE x"] * (MAX_COMMANDS + 1)))
    assert exc.line_no == MAX_COMMANDS + 1
    assert "too many commands" in exc.reason


def test_twenty_commands_are_allowed() -> None:
    assert len(parse("\n".join(["NOTE x"] * MAX_COMMANDS)).commands) == MAX_COMMANDS


def test_overlong_line_is_an_error() -> None:
    exc = error("NOTE " + "x" * 2000)
    assert "longer than 2000 characters" in exc.reason
    assert exc.line_no == 1


def test_error_anywhere_rejects_everything() -> None:
    with pytest.raises(CommandError):
        parse("ACCEPT prescribing\nPRIORITY high\nMEETING 2020-01-01")


def test_bad_reference_pattern_is_refused_when_the_vocabulary_is_built() -> None:
    with pytest.raises(ValueError, match="reference_pattern"):
        Vocabulary(areas=(), groups=(), reference_pattern="IFG-(")


def test_no_groups_configured_says_so() -> None:
    vocab = Vocabulary(areas=("it",), groups=(), reference_pattern=r"IFG-\d+")
    with pytest.raises(CommandError, match="none are configured"):
        parse_commands("DELEGATE anyone", vocab, TODAY)


# --- the command line ---------------------------------------------------------------------


def test_cli_words() -> None:
    command = parse_cli(["ACCEPT", "prescribing"], VOCAB, TODAY)
    assert (command.keyword, command.args) == ("ACCEPT", ("prescribing",))
    assert parse_cli(["note", "phoned", "the", "ward"], VOCAB, TODAY).text == "phoned the ward"
    assert parse_cli(["DELEGATE", "prescribing", "by", "2026-05-01"], VOCAB, TODAY).args == (
        "prescribing",
        "2026-05-01",
    )


@pytest.mark.parametrize(
    ("words", "fragment"),
    [
        ([], "no command given"),
        (["ACCPET"], "did you mean ACCEPT?"),
        (["MEETING", "2020-01-01"], "in the past"),
        (["ACCEPT\nUNDO"], "exactly one command"),
    ],
)
def test_cli_errors_have_no_line_number(words: list[str], fragment: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_cli(words, VOCAB, TODAY)
    assert info.value.line_no is None
    assert fragment.lower() in str(info.value).lower()
    assert not str(info.value).startswith("Line")


# --- the cheat-sheet --------------------------------------------------------------------


def test_cheat_sheet_has_a_line_per_keyword() -> None:
    lines = CHEAT_SHEET.splitlines()
    for keyword in KEYWORDS:
        assert any(line.strip().startswith(keyword) for line in lines), keyword


def test_cheat_sheet_pasted_without_a_blank_line_is_rejected_not_executed() -> None:
    with pytest.raises(CommandError):
        parse("ACCEPT it\n" + CHEAT_SHEET)


# --- properties -------------------------------------------------------------------------

COMMAND_LINES = st.sampled_from([line for line, *_ in VALID])
WORDS = st.sampled_from(
    [
        *KEYWORDS,
        *("accept", "Close", "ACCPET", ">", ":", "by", "2026-13-45", "IFG-2026-0042"),
        *("\xa0", "\u200b", "\r", "\n", "\n\n", " ", "prescribing", "high", "FROBNICATE"),
    ]
)
JUNK = st.one_of(
    st.text(),
    st.lists(st.one_of(WORDS, st.text(max_size=5)), max_size=30).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(max_size=5)), max_size=30).map("\n".join),
)
# Junk alone almost never parses: blocks of command lines (up to more than MAX_COMMANDS, with
# junk below a blank line, or mixed in) make the success branch, and each way to fail, common.
BLOCKS = st.tuples(st.lists(COMMAND_LINES, min_size=1, max_size=25), st.just("") | JUNK.map("\n\n".__add__))
MIXED = st.lists(st.one_of(COMMAND_LINES, COMMAND_LINES, JUNK), min_size=1, max_size=8)
REPLIES = st.one_of(JUNK, MIXED.map("\n".join), *[BLOCKS.map(lambda b: "\n".join(b[0]) + b[1])] * 2)
JUNK_WORDS = st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=10)
CLI_WORDS = st.one_of(
    JUNK_WORDS,
    COMMAND_LINES.map(str.split),
    st.tuples(COMMAND_LINES.map(str.split), JUNK_WORDS).map(lambda parts: parts[0] + parts[1][:2]),
)


@given(REPLIES)
@settings(max_examples=400)
def test_arbitrary_text_raises_only_command_error(text: str) -> None:
    try:
        reply = parse(text)
    except CommandError as exc:
        event("refused")
        assert str(exc)
        return
    event("read")
    assert 1 <= len(reply.commands) <= MAX_COMMANDS
    assert all(c.keyword in KEYWORDS for c in reply.commands)


@given(CLI_WORDS)
def test_arbitrary_cli_words_raise_only_command_error(words: list[str]) -> None:
    try:
        command = parse_cli(words, VOCAB, TODAY)
    except CommandError:
        event("refused")
        return
    event("read")
    assert command.keyword in KEYWORDS


def _block(lines: list[str]) -> str:
    return "\n".join(lines)


@given(
    st.lists(COMMAND_LINES, min_size=1, max_size=5),
    st.sampled_from(["> ", ">", "  > ", "\xa0>"]),
    st.lists(st.one_of(COMMAND_LINES, JUNK), max_size=8),
)
def test_text_after_a_quote_is_never_executed(before: list[str], marker: str, after: list[str]) -> None:
    expected = parse(_block(before)).commands
    reply = parse(_block([*before, marker + "ACCEPT it", *after]))
    assert reply.commands == expected


@given(st.sampled_from(VALID), st.sampled_from([str.lower, str.title]))
def test_a_keyword_not_in_capitals_never_runs(
    case: tuple[str, str, tuple[str, ...], str], how: Callable[[str], str]
) -> None:
    line = case[0]
    first, _, rest = line.partition(" ")
    with pytest.raises(CommandError, match="no command found"):
        parse(f"{how(first)} {rest}".strip())


def test_large_reply_is_cheap() -> None:
    started = time.monotonic()
    reply = parse("NOTE start\n" + ("x" * 1999 + "\n") * 2000)
    assert len(reply.commands) == 1
    with pytest.raises(CommandError):
        parse("ACCEPT " + "A" * 1990)
    assert time.monotonic() - started < 2.0


def test_title_and_public_summary_are_one_line_however_they_are_wrapped() -> None:
    text = "TITLE Discharge letters\nwithout medication lists\nPUBLISH Letters now list\n\nevery change"
    reply = parse(text)
    assert [(c.keyword, c.text) for c in reply.commands] == [
        ("TITLE", "Discharge letters without medication lists"),
        ("PUBLISH", "Letters now list every change"),
    ]


def test_with_text_may_be_written_in_any_case_but_only_at_the_end() -> None:
    assert only("DELEGATE prescribing with text").args == ("prescribing", "WITH TEXT")
    assert "unexpected words" in error("DELEGATE prescribing WITH TEXT by 2026-12-31").reason
