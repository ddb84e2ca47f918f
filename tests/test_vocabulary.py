"""The shared vocabulary: issue states and their transitions, references, subject tags, our ids."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mailproc.vocabulary import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    IssueStatus,
    OurMessageId,
    format_reference,
    make_message_id,
    parse_our_message_id,
    reference_pattern,
    subject_tag,
    token_in_message_id,
)

TOKEN = "k3f1-abcdefghijklmnop"


def test_every_status_is_open_or_final_and_final_ones_go_nowhere() -> None:
    assert set(OPEN_STATUSES) | FINAL_STATUSES == set(IssueStatus)
    for status in FINAL_STATUSES:
        assert not any(status.can_become(other) for other in IssueStatus if other != status)
    assert IssueStatus.INFO_REQUESTED.can_become(IssueStatus.AWAITING_TRIAGE)
    assert not IssueStatus.SCHEDULED.can_become(IssueStatus.AWAITING_TRIAGE)
    assert all(s.can_become(IssueStatus.CLOSED) for s in OPEN_STATUSES)


def test_references_format_and_match() -> None:
    assert format_reference("IFG", 2026, 42) == "IFG-2026-0042"
    assert format_reference("IFG", 2026, 12345) == "IFG-2026-12345"
    assert re.fullmatch(reference_pattern("IFG"), "IFG-2026-12345")
    assert not re.fullmatch(reference_pattern("IFG"), "IFG-2026-042")
    assert not re.fullmatch(reference_pattern("IF.G"), "IFXG-2026-0042")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[IFG-2026-0042] Discharge", "IFG-2026-0042"),
        ("Re: Discharge [ifg-2026-0042]", "IFG-2026-0042"),
        (f"Re: [IFG-2026-0042 #{TOKEN}] Discharge", "IFG-2026-0042"),
        ("[ IFG-2026-12345 ] long sequence", "IFG-2026-12345"),
        ("IFG-2026-0042 without brackets", None),
        ("[ABC-2026-0042] another group", None),
        ("[IFG-2026-0042] duplicate of [IFG-2026-0041]", None),
        ("[IFG-2026-0042] and again [IFG-2026-0042]", "IFG-2026-0042"),
    ],
)
def test_subject_reference(subject: str, expected: str | None) -> None:
    tag = subject_tag(subject, "IFG")
    assert (tag.reference if tag else None) == expected


@pytest.mark.parametrize(
    "subject",
    [
        f"[IFG-2026-0042 #{TOKEN}] Triage: discharge letters",
        f"RE: [IFG-2026-0042 #{TOKEN}] Triage: discharge letters",
        f"Re: AW: [ IFG-2026-0042  # {TOKEN} ] Triage",
        f"Re: [ifg-2026-0042 #{TOKEN}]",
        f"Re: [IFG-2026-0042 #{TOKEN}] Fwd: [IFG-2026-0042 #{TOKEN}]",
        f"Re: [IFG-2026-0042] Fwd: [IFG-2026-0042 #{TOKEN}]",
    ],
)
def test_subject_token(subject: str) -> None:
    tag = subject_tag(subject, "IFG")
    assert tag is not None and (tag.reference, tag.token) == ("IFG-2026-0042", TOKEN)


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [IFG-2026-0042] acknowledgement without a token",
        f"Re: [IFG-2026-0042 #{TOKEN}] and [IFG-2026-0043 #{TOKEN}]",
        "Re: [IFG-2026-0042 #aaa] and [IFG-2026-0042 #bbb]",
        f"Re: [ABC-2026-0042 #{TOKEN}] another group's tag",
    ],
)
def test_no_single_token(subject: str) -> None:
    tag = subject_tag(subject, "IFG")
    assert tag is None or tag.token is None


# Random text never holds a tag; a tag as clients mangle it (case, spaces, a token or none)
# amid random text reaches the branch that reads one.
_TAGS = st.builds(
    "[{}{}{}{}]".format,
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["IFG-2026-0042", "ifg-2026-0042", "Ifg-2026-12345"]),
    st.sampled_from(["", f" #{TOKEN}", f"  # {TOKEN.upper()}"]),
    st.sampled_from(["", " "]),
)
_NO_BRACKET = st.text(max_size=80).filter(lambda text: "[" not in text)


@given(st.text(max_size=200) | st.tuples(_NO_BRACKET, _TAGS, st.text(max_size=80)).map("".join))
def test_subject_tag_never_raises(subject: str) -> None:
    tag = subject_tag(subject, "IFG")
    event("tag found" if tag else "no tag")
    assert tag is None or tag.reference == tag.reference.upper()


def test_subject_tag_is_linear_on_a_hostile_megabyte() -> None:
    hostile = "[IFG-2026-0042 " + "#" * 1_000_000
    started = time.process_time()
    assert subject_tag(hostile, "IFG") is None
    # Generous: a quadratic scan of a megabyte takes minutes, a linear one milliseconds.
    assert time.process_time() - started < 5


def test_message_ids_are_deterministic_and_parse_back() -> None:
    mid = make_message_id("IFG-2026-0042", "ack", "<abc@gp.example>", "Example.NHS.scot")
    assert mid == make_message_id("IFG-2026-0042", "ack", "<abc@gp.example>", "example.nhs.scot")
    assert mid.startswith("<IFG-2026-0042.ack.") and mid.endswith("@example.nhs.scot>")
    assert mid != make_message_id("IFG-2026-0042", "ack", "<other@gp.example>", "example.nhs.scot")
    assert mid != make_message_id("IFG-2026-0042", "outcome", "<abc@gp.example>", "example.nhs.scot")
    assert parse_our_message_id(mid) == OurMessageId("IFG-2026-0042", "ack")
    assert parse_our_message_id(mid.strip("<>"), "EXAMPLE.nhs.scot") == OurMessageId("IFG-2026-0042", "ack")
    assert parse_our_message_id(mid, "elsewhere.org") is None
    other = make_message_id(None, "reminder", "2026-11-21", "example.nhs.scot")
    assert parse_our_message_id(other) == OurMessageId(None, "reminder")


def test_token_rides_in_our_triage_message_ids() -> None:
    mid = make_message_id("IFG-2026-0042", f"triage-{TOKEN}", "u", "example.nhs.scot")
    assert token_in_message_id(mid, "example.nhs.scot") == ("IFG-2026-0042", TOKEN)
    assert token_in_message_id(mid, "elsewhere.org") is None
    ack = make_message_id("IFG-2026-0042", "ack", "u", "example.nhs.scot")
    assert token_in_message_id(ack, "example.nhs.scot") is None


@pytest.mark.parametrize(
    "mid",
    [
        "<abc@example.nhs.scot>",
        "<IFG-2026-0042.ack.123@example.nhs.scot>",
        "",
        "<ifg-2026-0042.ack.0123456789abcdef@x.org>",
        "<" + "IFG-2026-0042." * 50_000 + ">",
    ],
)
def test_foreign_ids_are_not_ours(mid: str) -> None:
    assert parse_our_message_id(mid) is None


@pytest.mark.parametrize(
    ("reference", "purpose", "domain"),
    [("IFG 1", "ack", "x.org"), ("IFG-2026-0042", "Ack!", "x.org"), (None, "ack", "x.org>\r\n")],
)
def test_message_id_inputs_are_validated(reference: str | None, purpose: str, domain: str) -> None:
    with pytest.raises(ValueError):
        make_message_id(reference, purpose, "u", domain)
