"""Reply tokens: they verify only for their own issue and administrator, and only while fresh."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mailproc.triage.tokens import TokenCheck, make_token, verify_token

SECRET = b"s" * 32
ISSUED = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
MAX_AGE = timedelta(days=60)
REF = "IFG-2026-0042"
ADMIN = "admin@example.nhs.scot"
TOKEN = make_token(SECRET, REF, ADMIN, ISSUED)


def check(
    token: str = TOKEN,
    reference: str = REF,
    admin: str = ADMIN,
    now: datetime = ISSUED + timedelta(days=1),
    secret: bytes = SECRET,
) -> TokenCheck:
    return verify_token(secret, token, reference, admin, now, MAX_AGE)


def test_round_trip() -> None:
    assert check() == TokenCheck(True, "ok")


def test_token_is_short_and_subject_safe() -> None:
    assert len(TOKEN) <= 24
    assert re.fullmatch(r"[0-9a-z-]+", TOKEN)


def test_mac_carries_at_least_80_bits() -> None:
    mac = TOKEN.rpartition("-")[2]
    assert len(mac) * 5 >= 80  # base32: five bits a character


def test_same_inputs_same_token_and_case_of_inputs_does_not_matter() -> None:
    assert make_token(SECRET, REF.lower(), ADMIN.upper(), ISSUED) == TOKEN
    assert check(reference=REF.lower(), admin="Admin@Example.NHS.scot").ok


def test_other_timezones_give_the_same_token() -> None:
    same_moment = ISSUED.astimezone(timezone(timedelta(hours=-5)))
    assert make_token(SECRET, REF, ADMIN, same_moment) == TOKEN


@pytest.mark.parametrize(
    ("reference", "admin"),
    [
        ("IFG-2026-0043", ADMIN),
        (REF, "someone.else@example.nhs.scot"),
        ("IFG-2026-0043", "someone.else@example.nhs.scot"),
    ],
)
def test_other_issue_or_admin_is_rejected(reference: str, admin: str) -> None:
    assert check(reference=reference, admin=admin) == TokenCheck(False, "wrong issue or administrator")


def test_other_secret_is_rejected() -> None:
    assert not check(secret=b"t" * 32).ok


def test_expired() -> None:
    assert check(now=ISSUED + MAX_AGE + timedelta(hours=1)) == TokenCheck(False, "expired")
    assert check(now=ISSUED + MAX_AGE - timedelta(hours=1)).ok


def test_issued_in_the_future() -> None:
    assert check(now=ISSUED - timedelta(hours=2)) == TokenCheck(False, "issued in the future")


def test_small_clock_skew_is_tolerated() -> None:
    on_the_hour = ISSUED.replace(minute=0)
    assert check(now=on_the_hour - timedelta(minutes=2)).ok


def test_surrounding_whitespace_and_upper_case_are_tolerated() -> None:
    assert check(token=f"  {TOKEN.upper()}\t").ok


def test_every_single_character_change_is_rejected() -> None:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz-"
    for index, original in enumerate(TOKEN):
        for replacement in alphabet:
            if replacement == original:
                continue
            tampered = TOKEN[:index] + replacement + TOKEN[index + 1 :]
            assert not check(token=tampered).ok, tampered


def test_leading_zero_on_the_time_is_malformed() -> None:
    assert check(token="0" + TOKEN) == TokenCheck(False, "malformed")


def test_forged_far_future_time_does_not_overflow() -> None:
    assert check(token="zzzzzzz-" + "a" * 16) == TokenCheck(False, "wrong issue or administrator")


@pytest.mark.parametrize("junk", ["", "-", "abc", TOKEN + "x", TOKEN.replace("-", "_"), "é-" * 9])
def test_malformed(junk: str) -> None:
    assert check(token=junk) == TokenCheck(False, "malformed")


# Random text is nearly always malformed; well-formed tokens (random hours and MACs, and the
# real token with one character changed) reach the MAC comparison, which is what must refuse.
_WELL_FORMED = st.from_regex(r"[1-9a-z][0-9a-z]{0,6}-[a-z2-7]{16}", fullmatch=True)
_ONE_CHANGED = (
    st.tuples(st.integers(0, len(TOKEN) - 1), st.sampled_from("0123456789abcdefghijklmnopqrstuvwxyz"))
    .map(lambda change: TOKEN[: change[0]] + change[1] + TOKEN[change[0] + 1 :])
    .filter(lambda token: token != TOKEN)
)
JUNK_TOKENS = st.one_of(st.text(max_size=40), _WELL_FORMED, _ONE_CHANGED)


@given(JUNK_TOKENS)
def test_junk_never_verifies_and_never_raises(junk: str) -> None:
    result = check(token=junk)
    event(result.reason)
    assert not result.ok
    assert result.reason in {"malformed", "wrong issue or administrator"}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_token(SECRET, REF, ADMIN, datetime(2026, 3, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        check(now=datetime(2026, 3, 11))


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        make_token(b"short", REF, ADMIN, ISSUED)
