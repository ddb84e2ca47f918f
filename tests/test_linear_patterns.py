"""Every pattern that reads untrusted input runs in linear time (issue 11, point 2).

Each case feeds a function an adversarial input of 1 MB and of 100 KB and compares the
CPU times: a linear scan takes about ten times as long for ten times the input, a quadratic
one a hundred times. The bound (a ratio of 25, best of three runs each, CPU time of this
process so that a busy machine does not count) lets no quadratic pattern through, and no
fixed wall-clock limit can flake.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mailproc.intake import classify, machine_marks
from mailproc.intake.parsing import fields, parts, raw
from mailproc.intake.parsing.base import ParseError, ParseLimits
from mailproc.intake.parsing.parser import parse
from mailproc.intake.replytrim import visible_reply
from mailproc.intake.suggest import suggest
from mailproc.triage.auth import check_authentication_results
from mailproc.triage.tokens import verify_token
from mailproc.vocabulary import parse_our_message_id, subject_tag
from tests.support.linear import TooSlow, best_cpu_time

BIG = 1_000_000
SMALL = BIG // 10
MAX_RATIO = 25.0
FLOOR = 0.005  # seconds: below this, timer noise would dominate the ratio


def assert_linear(fn: Callable[[str], object], make: Callable[[int], str]) -> None:
    small = best_cpu_time(fn, make(SMALL), 3, 10.0)
    bound = max(small, FLOOR) * MAX_RATIO
    try:
        big = best_cpu_time(fn, make(BIG), 3, 4 * bound)  # stopped well before a quadratic ends
    except TooSlow:
        pytest.fail(f"1 MB took longer than {4 * bound:.3f}s where 100 KB took {small:.3f}s")
    assert big < bound, f"1 MB took {big:.3f}s, 100 KB {small:.3f}s"


def _run(pattern: str) -> Callable[[int], str]:
    """`pattern` repeated to about n characters."""
    return lambda n: pattern * (n // len(pattern))


def _our_id(text: str) -> object:
    return parse_our_message_id(text, "example.org")


def _token(text: str) -> object:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    return verify_token(b"0123456789abcdef", text, "IFG-2026-0001", "a@example.org", now, timedelta(days=1))


def _auth(text: str) -> object:
    return check_authentication_results([text], "mx.example.org", "a@example.org")


ADVERSARIAL: dict[str, tuple[Callable[[str], object], Callable[[int], str]]] = {
    # Message-IDs: the 200 KB References that took 75 s, and its relatives.
    "references, no @": (fields.message_ids, lambda n: "<" + "a" * n),
    "references, bare, no @": (fields.message_ids, lambda n: "a" * n),
    "references, only <": (fields.message_ids, _run("<")),
    "references, <a <a <a": (fields.message_ids, _run("<a ")),
    "references, a@ a@": (fields.message_ids, _run("a@ ")),
    "message-id, no @": (fields.normalise_message_id, lambda n: "<" + "a" * n),
    "encoded words, unterminated": (fields.decode_words, lambda n: "=?utf-8?b?" + "a" * n),
    "encoded words, only =?": (fields.decode_words, _run("=?")),
    "encoded words, =?a?": (fields.decode_words, _run("=?a?")),
    "unfold, folds": (fields.unfold, _run("\r\n ")),
    "unfold, line breaks": (fields.unfold, _run("\r\n\r")),
    # Subjects: reply prefixes, auto-reply and bounce subjects, the triage tag.
    "reply prefix, spaces": (classify.strip_reply_prefixes, lambda n: "Re" + " " * n + "x"),
    "reply prefix, many": (classify.strip_reply_prefixes, _run("Re: ")),
    "reply prefix, counters": (classify.strip_reply_prefixes, _run("Re[2]")),
    "auto-reply subject, word": (classify._AUTO_REPLY_SUBJECT.match, lambda n: "auto-respons" + "e" * n),
    "auto-reply subject, spaces": (classify._AUTO_REPLY_SUBJECT.match, lambda n: " " * n),
    "bounce subject, spaces": (classify._BOUNCE_SUBJECT.match, lambda n: "undeliverable" + " " * n),
    "machine local part": (classify._MACHINE_LOCAL.fullmatch, lambda n: "noreply-" + "=" * n + "@"),
    "subject tag, brackets": (lambda s: subject_tag(s, "IFG"), _run("[")),
    "subject tag, open tags": (lambda s: subject_tag(s, "IFG"), _run("[IFG-2026-0001 #")),
    "triage token": (_token, lambda n: "1" * n + "-" + "a" * 16),
    "our message id": (_our_id, lambda n: "<IFG-2026-0001." + "a" * n),
    # Weakly marked machines: away subjects, challenge-response, spam headers.
    "away subject, brackets": (lambda s: machine_marks._AWAY_SUBJECT.match(s), lambda n: "[(" * (n // 2)),
    "away subject, spaces": (lambda s: machine_marks._AWAY_SUBJECT.match(s), lambda n: "absence" + " " * n),
    "away subject, is out": (lambda s: machine_marks._IS_OUT.search(s), _run("is out of ")),
    "challenge subject": (lambda s: machine_marks._CHALLENGE_SUBJECT.match(s), lambda n: "[" + "a" * n),
    "challenge body, clicks": (lambda s: machine_marks._CHALLENGE_BODY.search(s), _run("click link ")),
    "challenge body, verify": (lambda s: machine_marks._CHALLENGE_BODY.search(s), _run("verify you ")),
    "spam, forefront": (lambda s: machine_marks._SFV.search(s), _run("SFV:")),
    "spam, rspamd": (lambda s: machine_marks._SPAMD_RESULT.match(s), lambda n: "a" * n),
    # Bodies: HTML fallback, reply trimming, suggestions.
    "html tags, only <": (lambda s: parts._TAGS.sub(" ", s), _run("<")),
    "reply trim, spaces": (visible_reply, lambda n: " " * n),
    "reply trim, quotes": (visible_reply, lambda n: ">" * n),
    "reply trim, dashes": (visible_reply, lambda n: "-" * n),
    "reply trim, underscores": (visible_reply, lambda n: "_" * n),
    "reply trim, attribution words": (visible_reply, _run("On Monday Dr X wrote ")),
    "reply trim, schrieb": (visible_reply, _run("schrieb ")),
    "reply trim, header lines": (visible_reply, _run("From: a\nSent: b\nTo: c\n")),
    "reply trim, quoted lines": (visible_reply, _run("> a\n")),
    "reply trim, signature lines": (visible_reply, _run("-- \nSent from my iPhone\n")),
    "reply trim, dated senders": (visible_reply, _run("2016-03-03 17:21 GMT+01:00 ")),
    "suggest, letters": (lambda s: suggest(s, {"discharge": ("discharge letter",)}, {}), lambda n: "a" * n),
    # Authentication-Results (only an administrator's, but it is still the sender's header).
    "authentication-results, pairs": (_auth, _run("a=")),
    "authentication-results, semicolons": (_auth, _run(";")),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_pattern_is_linear_on_a_megabyte(name: str) -> None:
    fn, make = ADVERSARIAL[name]
    assert_linear(fn, make)


RAW_ADVERSARIAL: dict[str, Callable[[int], bytes]] = {
    "blank lines": lambda n: b" \t" * (n // 2) + b"x",
    "mbox line": lambda n: b"From " + b"a" * n,
    "header name": lambda n: b"X" * n + b": v\n\nbody",
    "long body field": lambda n: b"From: a@b.org\n\n" + b"Content-" * (n // 8),
}


@pytest.mark.parametrize("name", sorted(RAW_ADVERSARIAL))
def test_raw_checks_are_linear_on_a_megabyte(name: str) -> None:
    make = RAW_ADVERSARIAL[name]

    def checks(data: bytes) -> None:
        data = raw.normalise(data)
        for check in (raw.check_header, raw.check_fields):
            with contextlib.suppress(ParseError):
                check(data, ParseLimits())

    assert_linear(lambda s: checks(s.encode("latin-1")), lambda n: make(n).decode("latin-1"))


def test_strip_reply_prefixes_still_strips() -> None:
    assert classify.strip_reply_prefixes("Re: AW:Fwd[3] : Re^2：Discharge") == "Discharge"
    assert classify.strip_reply_prefixes("Re  (2)  : x") == "x"


def test_bare_message_ids_still_found() -> None:
    assert fields.message_ids("a@b.org, (c@d.org) @x y@ e;f@g") == ["<a@b.org>", "<c@d.org>", "<f@g>"]


def _multipart(part_content_type: bytes) -> bytes:
    return (
        b"From: a@example.org\nSubject: x\nMessage-ID: <p@example.org>\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: "
        + part_content_type
        + b"\n\nbody\n--BB--\n"
    )


@pytest.mark.parametrize(
    "params",
    [b"text/plain" + b";" * BIG, b"text/plain; " + b"; ".join(b"p%d=v" % i for i in range(BIG // 8))],
    ids=["semicolons", "parameters"],
)
def test_a_megabyte_of_part_parameters_is_refused_before_parsing(params: bytes) -> None:
    # Unchecked, Python's parameter parsing takes minutes over either of these.
    with pytest.raises(ParseError, match=r"a MIME part's Content-Type field is .* bytes"):
        parse(_multipart(params))


def test_an_oversized_top_level_field_is_refused_by_name() -> None:
    data = b"From: a@example.org\nReferences: <" + b"a" * 200_000 + b"\nSubject: x\n\nbody\n"
    with pytest.raises(ParseError, match="References field is 200013 bytes"):
        parse(data)


def test_fields_under_the_cap_parse() -> None:
    refs = b" ".join(b"<m%d@example.org>" % i for i in range(3000))  # about 55 KB
    msg = parse(b"From: a@example.org\nReferences: " + refs + b"\n\nbody\n")
    assert len(msg.references) == 3000
