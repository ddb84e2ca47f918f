"""Who may command: allow-listed senders, and only our own server's Authentication-Results."""

from __future__ import annotations

import time

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mailproc.triage.auth import AuthDecision, check_authentication_results, check_sender

ADMINS = ("admin@example.nhs.scot", "Lead@Example.NHS.scot")
OURS = "mx.example.nhs.scot"
DOMAIN = "example.nhs.scot"


# --- the From address ---------------------------------------------------------------------


def test_admin_is_allowed_and_normalised() -> None:
    assert check_sender(["Admin@Example.nhs.scot"], False, ADMINS) == AuthDecision(
        True, "ok", "admin@example.nhs.scot"
    )
    assert check_sender([" lead@example.nhs.scot "], False, ADMINS).admin == ("lead@example.nhs.scot")


def test_non_admin_is_refused() -> None:
    decision = check_sender(["gp@practice.nhs.scot"], False, ADMINS)
    assert not decision.ok
    assert decision.admin is None
    assert "not an administrator" in decision.reason


def test_display_name_claiming_admin_is_the_attackers_address() -> None:
    # From: "admin@example.nhs.scot" <attacker@elsewhere.example> parses to the attacker.
    assert not check_sender(["attacker@elsewhere.example"], False, ADMINS).ok


def test_unparsed_header_value_never_matches() -> None:
    raw = '"admin@example.nhs.scot" <attacker@elsewhere.example>'
    assert not check_sender([raw], False, ADMINS).ok


def test_two_from_addresses_are_refused_even_if_both_are_admins() -> None:
    decision = check_sender(["admin@example.nhs.scot", "lead@example.nhs.scot"], False, ADMINS)
    assert not decision.ok
    assert "exactly one From address" in decision.reason


def test_no_from_address_is_refused() -> None:
    assert not check_sender([], False, ADMINS).ok
    assert not check_sender([""], False, ADMINS).ok


def test_parse_defects_are_refused() -> None:
    decision = check_sender(["admin@example.nhs.scot"], True, ADMINS)
    assert not decision.ok
    assert "could not be parsed" in decision.reason


def test_lookalike_addresses_are_refused() -> None:
    for address in (
        "admin@example.nhs.scot.evil.example",
        "admin@example.nhs.sco",
        "xadmin@example.nhs.scot",
        "admin@EXAMPLE.nhs.scot\n",  # stripped, so allowed: whitespace is not an identity
    ):
        decision = check_sender([address], False, ADMINS)
        assert decision.ok == (address.strip().lower() == "admin@example.nhs.scot")


def test_empty_allow_list_allows_nobody() -> None:
    assert not check_sender(["admin@example.nhs.scot"], False, ()).ok


# --- Authentication-Results -----------------------------------------------------------------


def ar(body: str, server: str = OURS) -> str:
    return f"{server}; {body}"


def judge(*headers: str, domain: str = DOMAIN) -> AuthDecision:
    return check_authentication_results(list(headers), OURS, domain)


def test_dmarc_pass() -> None:
    decision = judge(ar("dkim=pass header.d=example.nhs.scot; dmarc=pass header.from=example.nhs.scot"))
    assert decision.ok
    assert decision.admin is None


def test_dmarc_fail_is_refused() -> None:
    decision = judge(ar("spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=example.nhs.scot"))
    assert not decision.ok
    assert "dmarc=fail" in decision.reason


def test_dmarc_fail_wins_over_a_contradictory_dkim_pass() -> None:
    header = ar("dkim=pass header.d=example.nhs.scot; dmarc=fail header.from=example.nhs.scot")
    assert not judge(header).ok


def test_dmarc_pass_for_another_domain_is_not_enough() -> None:
    assert not judge(ar("dmarc=pass header.from=evil.example")).ok


def test_aligned_dkim_pass_without_dmarc() -> None:
    assert judge(ar("dkim=pass header.d=example.nhs.scot")).ok
    assert judge(ar("dkim=pass header.d=mail.example.nhs.scot")).ok
    assert judge(ar("dkim=pass header.i=@example.nhs.scot")).ok
    assert judge(ar("dkim=pass header.i=lead@example.nhs.scot"), domain="mail.example.nhs.scot").ok


def test_dkim_pass_for_an_unrelated_domain_is_refused() -> None:
    for signer in ("evil.example", "example.nhs.scot.evil.example", "xexample.nhs.scot", "scot"):
        decision = judge(ar(f"dkim=pass header.d={signer}"))
        assert not decision.ok, signer
        assert "neither DMARC nor aligned DKIM" in decision.reason


def test_dkim_fail_is_refused() -> None:
    assert not judge(ar('dkim=fail reason="bad signature" header.d=example.nhs.scot')).ok


def test_forged_header_from_another_server_above_ours_is_skipped() -> None:
    forged = ar("dmarc=pass header.from=example.nhs.scot", server="mx.evil.example")
    real = ar("dmarc=fail header.from=example.nhs.scot")
    assert not judge(forged, real).ok


def test_only_the_topmost_header_from_our_server_counts() -> None:
    top = ar("dmarc=fail header.from=example.nhs.scot")
    lower_forged_with_our_id = ar("dmarc=pass header.from=example.nhs.scot")
    assert not judge(top, lower_forged_with_our_id).ok
    assert judge(lower_forged_with_our_id, top).ok


def test_no_header_from_our_server_is_refused() -> None:
    decision = judge(ar("dmarc=pass header.from=example.nhs.scot", server="elsewhere.example"))
    assert not decision.ok
    assert OURS in decision.reason
    assert not judge().ok


def test_none_is_refused() -> None:
    assert not judge(f"{OURS}; none").ok
    assert not judge(f"{OURS} 1; none").ok


def test_missing_configuration_fails_closed() -> None:
    header = ar("dmarc=pass header.from=example.nhs.scot")
    assert not check_authentication_results([header], "", DOMAIN).ok
    assert not check_authentication_results([header], OURS, "").ok


def test_rfc_8601_syntax_comments_folding_versions_and_case() -> None:
    header = (
        'MX.Example.NHS.scot. 1 (our (nested) server);\r\n\tspf=pass (sender "ok")'
        " smtp.mailfrom=example.nhs.scot;\r\n dkim/1 = Pass (2048-bit key; unprotected)"
        ' reason="good; signature" header.d=Example.NHS.scot header.s=sel;\r\n'
        " DMARC=pass (p=quarantine dis=none) header.from=EXAMPLE.nhs.scot"
    )
    decision = judge(header)
    assert decision.ok
    assert decision.reason == "dmarc=pass for example.nhs.scot"


def test_quoted_authserv_id() -> None:
    assert judge(f'"{OURS}"; dmarc=pass header.from=example.nhs.scot').ok


def test_pass_inside_a_comment_or_quoted_reason_does_not_count() -> None:
    assert not judge(ar("dkim=fail (dmarc=pass header.from=example.nhs.scot)")).ok
    assert not judge(ar('dkim=neutral reason="dkim=pass header.d=example.nhs.scot"')).ok


def test_repeated_property_cannot_override_the_first() -> None:
    assert not judge(ar("dkim=pass header.d=evil.example header.d=example.nhs.scot")).ok


def test_unclosed_comment_and_quote_do_not_pass() -> None:
    assert not judge(ar("dmarc=pass (header.from=example.nhs.scot")).ok
    assert not judge(ar('dmarc=pass header.from="example.nhs.scot')).ok


@pytest.mark.parametrize("junk", ["", ";", "(", '"', "  ;;; =", OURS, f"{OURS};;dkim"])
def test_malformed_headers_are_refused(junk: str) -> None:
    assert not judge(junk).ok


# Random text never names our server, so it stops at the authserv-id; headers from ours (and
# from others) with verdicts, comments, quotes and junk in them reach the parser and the verdict.
_CLAUSES = st.one_of(
    st.sampled_from(
        [
            f"dmarc=pass header.from={DOMAIN}",
            f'dmarc=pass header.from="{DOMAIN}"',
            f"dmarc=fail header.from={DOMAIN}",
            "dmarc=pass header.from=evil.example",
            f"dkim=pass header.d={DOMAIN}",
            f"dkim=pass header.i=@mail.{DOMAIN}",
            "dkim=pass header.d=evil.example",
            f"dkim=fail header.d={DOMAIN}",
            "spf=pass smtp.mailfrom=evil.example",
            "dkim=none",
            "(a comment; dmarc=pass)",
            'reason="a; b"',
        ]
    ),
    st.text(max_size=40),
)


def _headers_from(servers: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(servers), st.lists(_CLAUSES, max_size=4)).map(
        lambda head: "; ".join([head[0], *head[1]])
    )


# Ours however spelt (case, quotes, a version); others include a look-alike of ours.
_OURS = _headers_from([OURS, OURS.upper(), f'"{OURS}"', f"{OURS} 1"])
HEADERS = st.one_of(
    st.text(max_size=120),
    _OURS,
    _OURS,
    _headers_from(["mx.elsewhere.example", f"{OURS}.evil.example", DOMAIN]),
)


def _says_pass_from_us(header: str) -> bool:
    authserv_id = (header.split(";")[0].split() or [""])[0].strip('"').lower()
    return authserv_id == OURS and "pass" in header.lower()


@given(st.lists(HEADERS, max_size=4))
def test_arbitrary_headers_never_raise(headers: list[str]) -> None:
    decision = check_authentication_results(headers, OURS, DOMAIN)
    event(decision.reason.split(" for ")[0])
    assert isinstance(decision.ok, bool)
    assert decision.admin is None
    # Fail closed: only a header from our own server that says "pass" can let a command in.
    assert not decision.ok or any(_says_pass_from_us(h) for h in headers)


def test_hostile_long_header_is_cheap() -> None:
    started = time.monotonic()
    for body in ("dkim=pass " + "a" * 200_000, "a " * 100_000, "a=" * 100_000, "(" * 100_000):
        assert not judge(ar(body)).ok
    assert time.monotonic() - started < 2.0
