"""Tests for mailproc.privacy: check digits, the labelled set, fail-safe redaction, config."""

from __future__ import annotations

import logging
import random
from itertools import pairwise

import pytest

from mailproc.privacy.detector import (
    CompiledPatterns,
    ExtraPattern,
    Finding,
    classify_number,
    compile_patterns,
    find_pid,
    is_ddmmyy,
    luhn_check_digit,
    mod11_check_digit,
    redact,
    redaction_label,
)
from tests.support.pid_kinds import labelled_negatives, labelled_positives
from tests.support.pid_samples import SPACINGS, Sample, all_ddmmyy, luhn_ok, mod11_ok

# The labelled set must produce no false positives at all; raise this only with a reason.
MAX_FALSE_POSITIVES = 0

POSITIVES = labelled_positives()
NEGATIVES = labelled_negatives()

# --- check digits, by hand ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("nine", "expected"),
    [
        # 0 1 0 1 0 1 1 2 3 x 10..2 = 0+9+0+7+0+5+4+6+6 = 37; 37 mod 11 = 4; 11-4 = 7
        ("010101123", 7),
        # 3 1 1 2 9 9 4 0 1: 30+9+8+14+54+45+16+0+2 = 178; 178 = 16*11 + 2; 11-2 = 9
        ("311299401", 9),
        # 4 0 1 0 2 3 2 1 3: 40+0+8+0+12+15+8+3+6 = 92; 92 = 8*11 + 4; 11-4 = 7
        ("401023213", 7),
        # 0 1 0 1 7 0 0 0 4: 0+9+0+7+42+0+0+0+8 = 66; 66 mod 11 = 0; 11-0 = 11, which means 0
        ("010170004", 0),
        # 0 1 0 1 7 0 0 3 0: 0+9+0+7+42+0+0+9+0 = 67; 67 mod 11 = 1; 11-1 = 10: no number
        ("010170030", None),
    ],
)
def test_mod11_check_digit_hand_examples(nine: str, expected: int | None) -> None:
    assert mod11_check_digit(nine) == expected


@pytest.mark.parametrize(
    ("nine", "expected"),
    [
        # from the right, 3 1 0 0 0 are doubled -> 6 2 0 0 0 = 8; the rest 2 1 1 1 = 5;
        # total 13; (10 - 3) mod 10 = 7
        ("010101123", 7),
        # digits reversed 1 0 4 9 9 2 1 1 3; doubled 1 4 9 1 3 -> 2 8 (18->9) 2 6 = 27;
        # undoubled 0 9 2 1 = 12; total 39; (10 - 9) mod 10 = 1
        ("311299401", 1),
        # reversed 0 0 0 0 7 1 0 1 0; doubled 0 0 7 0 0 -> 0 0 (14->5) 0 0 = 5;
        # undoubled 0 0 1 1 = 2; total 7; (10 - 7) mod 10 = 3
        ("010170000", 3),
        # reversed 5 0 0 0 7 1 0 1 0; doubled 5 0 7 0 0 -> 1 0 5 0 0 = 6 (10->1, 14->5);
        # undoubled 0 0 1 1 = 2; total 8; (10 - 8) mod 10 = 2
        ("010170005", 2),
    ],
)
def test_luhn_check_digit_hand_examples(nine: str, expected: int) -> None:
    assert luhn_check_digit(nine) == expected


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_check_digit_functions_reject_malformed_input(bad: str) -> None:
    with pytest.raises(ValueError):
        mod11_check_digit(bad)
    with pytest.raises(ValueError):
        luhn_check_digit(bad)


def test_check_digits_agree_with_the_independent_sample_formulation() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        nine = "".join(rng.choice("0123456789") for _ in range(9))
        mod11 = mod11_check_digit(nine)
        for check in range(10):
            assert (mod11 == check) == mod11_ok(f"{nine}{check}")
            assert (luhn_check_digit(nine) == check) == luhn_ok(f"{nine}{check}")


@pytest.mark.parametrize(
    ("six", "valid"),
    [
        ("010101", True),
        ("311299", True),
        ("290200", True),  # 29 Feb 2000 (or 1900): YY 00 is treated as a leap year
        ("290296", True),
        ("290201", False),
        ("300200", False),
        ("310400", False),  # April has 30 days
        ("000190", False),
        ("011390", False),
        ("010090", False),
        ("320190", False),
        ("01019a", False),
    ],
)
def test_is_ddmmyy(six: str, valid: bool) -> None:
    assert is_ddmmyy(six) is valid


@pytest.mark.parametrize(
    ("digits", "kind"),
    [
        ("0101011237", "chi"),  # modulus 11 (7, above)
        ("3112994019", "chi"),  # modulus 11 (9, above)
        ("3112994011", "chi"),  # modulus 10 only (1, above): new-style CHI
        ("3112994015", "chi-like"),  # valid date, neither check digit
        ("4010232137", "nhs"),  # no date (day 40), modulus 11 (7, above)
        ("4010232136", None),  # no date, wrong check digit
        # 010170030: modulus 11 impossible (10, above). Luhn: reversed 0 3 0 0 7 1 0 1 0,
        # doubled 0 0 7 0 0 -> 0 0 5 0 0 = 5, undoubled 3 0 1 1 = 5, total 10 -> check 0.
        ("0101700300", "chi"),
        ("0101700301", "chi-like"),
        ("01010112", None),
        ("01010112370", None),
    ],
)
def test_classify_number(digits: str, kind: str | None) -> None:
    assert classify_number(digits) == kind


# --- the labelled set ------------------------------------------------------------------------


def _found(sample: Sample) -> list[tuple[str, str]]:
    return [(f.kind, sample.text[f.start : f.end]) for f in find_pid(sample.text)]


def test_labelled_set_is_large_and_varied() -> None:
    assert len(POSITIVES) >= 500
    assert len(NEGATIVES) >= 500
    numbers = [s for s in POSITIVES if s.kind in ("chi", "chi-like", "nhs")]
    assert {s.category.split("/")[1] for s in numbers} == set(SPACINGS)
    kinds = {"chi", "chi-like", "nhs", "dob", "postcode", "phone", "name", "address"}
    assert {s.kind for s in POSITIVES} == kinds
    assert all(sum(s.kind == kind for s in POSITIVES) >= 50 for kind in kinds)
    negative_kinds = {s.category.split(":")[0] for s in NEGATIVES}
    assert {"date", "reference", "clinic time", "dose", "bed", "BNF code", "order number"} <= negative_kinds
    assert labelled_positives() == POSITIVES, "generation must be deterministic"


def test_recall_is_complete_with_exact_spans_and_kinds() -> None:
    misses = [s.category for s in POSITIVES if _found(s) != [(s.kind, s.spelled)]]
    assert misses == []


def test_every_positive_is_redacted_whole() -> None:
    for sample in POSITIVES:
        assert sample.kind is not None and sample.spelled is not None
        out = redact(sample.text)
        assert sample.spelled not in out, sample.category
        if sample.kind in ("chi", "chi-like", "nhs"):
            assert sample.digits and sample.digits not in out, sample.category
        assert redaction_label(sample.kind) in out, sample.category


def test_false_positives_on_negatives() -> None:
    false_positives = [s.category for s in NEGATIVES if find_pid(s.text)]
    assert len(false_positives) <= MAX_FALSE_POSITIVES, false_positives
    assert all(redact(s.text) == s.text for s in NEGATIVES)


def test_every_ddmmyy_prefixed_number_is_redacted_in_every_spelling() -> None:
    # Fail safe: all 36,525 date prefixes, each with a random tail in a rotating spelling.
    rng = random.Random(11)
    spellings = list(SPACINGS.values())
    for index, six in enumerate(all_ddmmyy()):
        digits = six + "".join(rng.choice("0123456789") for _ in range(4))
        spelled = spellings[index % len(spellings)](digits)
        out = redact(f"CHI:{spelled}, thanks")
        assert out == "CHI:[CHI removed], thanks", six


# --- boundaries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "010101123712",  # twelve digits
        "90101011237",  # eleven digits, CHI at the end
        "01010112379",  # eleven digits, CHI at the start
        "+44 010 101 1237",
        "+44 (0)010 101 1237",
    ],
)
def test_longer_digit_runs_and_dialling_codes_are_not_ten_digit_numbers(text: str) -> None:
    # Some are phone-shaped (a trunk 0 or a country code) and are redacted as phone numbers.
    assert [f.kind for f in find_pid(text) if f.kind != "phone"] == []


def test_neighbouring_digits_beyond_a_space_do_not_hide_a_number() -> None:
    # Fail safe: only digits glued to the ten make a longer run; "Bed 12 0101011237" is a CHI.
    assert redact("Bed 12 0101011237 5") == "Bed 12 [CHI removed] 5"
    assert redact("0 010 101 1237 5") == "0 [CHI removed] 5"


def test_several_findings_are_sorted_and_non_overlapping() -> None:
    text = "A 0101011237, B 401-023-2137 and C 311299 4015; tel 0131 242 1000."
    findings = find_pid(text)
    assert [f.kind for f in findings] == ["chi", "nhs", "chi-like", "phone"]
    assert all(a.end <= b.start for a, b in pairwise(findings))
    assert redact(text) == (
        "A [CHI removed], B [NHS number removed] and C [CHI removed]; tel [phone number removed]."
    )


def test_unicode_separators_from_html_conversion() -> None:
    for sep in ("\u00a0", "\u2011", "\u2013"):
        assert redact(f"CHI 010101{sep}1237") == "CHI [CHI removed]"


# --- extra patterns from config ------------------------------------------------------------

UNIT = ExtraPattern("unit-number", r"\bRX[0-9]{6}\b")


def test_extra_pattern_is_found_and_redacted_by_name() -> None:
    text = "Unit RX123456 and CHI 0101011237."
    assert find_pid(text, [UNIT]) == [Finding("unit-number", 5, 13), Finding("chi", 22, 32)]
    assert redact(text, [UNIT]) == "Unit [unit-number removed] and CHI [CHI removed]."
    assert redact(text) == "Unit RX123456 and CHI [CHI removed]."


def test_overlapping_extra_pattern_and_chi_are_merged_not_partially_masked() -> None:
    wide = ExtraPattern("case-ref", r"CASE/[0-9]{6}")
    text = "see CASE/010101 1237 today"
    assert find_pid(text, [wide]) == [Finding("chi", 4, 20)]
    assert redact(text, [wide]) == "see [CHI removed] today"


def test_compiled_patterns_can_be_passed_directly() -> None:
    compiled = compile_patterns([UNIT])
    assert isinstance(compiled, CompiledPatterns)
    assert redact("RX654321", compiled) == "[unit-number removed]"


def test_bad_regex_raises_value_error_naming_the_pattern() -> None:
    with pytest.raises(ValueError, match="unit-number"):
        compile_patterns([ExtraPattern("unit-number", r"RX[0-9{6}")])
    with pytest.raises(ValueError, match="unit-number"):
        find_pid("text", [ExtraPattern("unit-number", r"(unclosed")])


def test_pattern_matching_empty_string_or_without_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"loose.*empty string"):
        compile_patterns([ExtraPattern("loose", r"[0-9]*")])
    with pytest.raises(ValueError, match="empty name"):
        compile_patterns([ExtraPattern(" ", r"RX[0-9]+")])


def test_matched_text_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mailproc.privacy")
    redact("CHI 010101 1237, unit RX123456", [UNIT])
    assert caplog.records, "expected a debug record with counts"
    assert "1237" not in caplog.text and "123456" not in caplog.text
