"""Measure the reply trimmer against the shared corpus of real replies.

Usage::

    python benchmarks/reply_trim_corpus.py [--show-failures] [--impl MODULE:FUNCTION]

The corpus lives in ``../shared/corpus`` (relative to the repository) or wherever
``MAILPROC_CORPUS`` points. Its ``MANIFEST.csv`` names the rows used here:

* ``reply_body_expected``: body-only texts. Their expectation comes from the source project:
  discourse's ``trimmed/<name>`` file for ``emails/<name>``; talon's ``*.expected_reply.txt``
  (HTML inputs, and the ``*_html_nows.txt`` expectations that are HTML themselves, are
  converted to text with inscriptis and compared with all whitespace removed, as talon's own
  test does); for github's and zapier's fixtures, whose tests assert on fragments rather than
  on text, the table ``_ASSERTED`` below restates those assertions as line ranges of the input.
* ``reply_expected``: RFC 822 messages; the first text/plain part is the input. talon's
  expectation is a file (or, for the share-block message, a property); redmine's assertions are
  restated as a line range in ``_ASSERTED``.

Texts are compared after stripping each line's trailing whitespace and the leading and trailing
blank lines. A "near" match is one where either text is a prefix of the other.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import email
import importlib
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path

Trimmer = Callable[[str], str]

# Where the restated assertions come from: each entry maps a fixture name to the line ranges
# (start, end) of its input that make up the visible reply, joined by one blank line. Upstream
# tests count a bottom-post's quoted fragment as visible; mailproc wants only the new text, so
# the ranges leave '>' lines out. ``None`` marks fixtures whose test only checks speed.
_RangeSpec = tuple[tuple[int, int], ...] | None
_ASSERTED: dict[str, _RangeSpec] = {
    "correct_sig": ((0, 1),),
    "email_1_1": ((0, 5),),
    "email_1_2": ((0, 1), (8, 34)),
    "email_1_3": ((0, 3),),
    "email_1_4": ((0, 1),),
    "email_1_5": ((0, 10_000),),
    "email_1_6": ((0, 3),),
    "email_1_7": ((0, 1),),
    "email_1_8": ((12, 13), (18, 19)),
    "email_2_1": ((0, 1),),
    "email_2_2": ((0, 1),),
    "email_2_3": ((0, 1),),
    "email_BlackBerry": ((0, 1),),
    "email_bullets": ((0, 9),),
    "email_gmail": ((0, 1),),
    "email_headers_no_delimiter": ((0, 1),),
    "email_iPhone": ((0, 1),),
    "email_long_quote": None,
    "email_multi_word_sent_from_my_mobile_device": ((0, 1),),
    "email_one_is_not_on": ((0, 5),),
    "email_partial_quote_header": ((0, 6),),
    "email_sent_from_my_not_signature": ((0, 10_000),),
    "email_sig_delimiter_in_middle_of_line": ((0, 10_000),),
    "greedy_on": ((0, 6),),
    "pathological": None,
    "issue_update_with_quoted_reply_above": ((0, 13),),
    "issue_update_with_multiple_quoted_reply_above": ((0, 13),),
}

# The upstream speed tests allow one second per fixture.
_TIME_LIMIT_S = 1.0


@dataclass(frozen=True)
class Case:
    """One corpus input with what the trimmer should make of it."""

    path: str
    source: str
    text: str
    expected: str | None  # None: the check is ``mode`` alone
    mode: str  # "text", "nows" (whitespace-insensitive), "no-From", "timing"


@dataclass
class Tally:
    """Results of one run, overall and per source."""

    total: int = 0
    exact: int = 0
    near: int = 0
    failures: list[tuple[Case, str]] = field(default_factory=list)
    by_source: Counter[str] = field(default_factory=Counter)
    failed_by_source: Counter[str] = field(default_factory=Counter)

    @property
    def exact_rate(self) -> float:
        """Share of cases matched exactly (0.0 for an empty run)."""
        return self.exact / self.total if self.total else 0.0


def corpus_dir() -> Path:
    """The corpus directory: ``MAILPROC_CORPUS`` or ``../shared/corpus`` beside the repo."""
    env = os.environ.get("MAILPROC_CORPUS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def normalise(text: str) -> str:
    """Strip each line's trailing whitespace and the blank lines at either end."""
    lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", text)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def first_plain_part(raw: bytes) -> str:
    """The first text/plain part of an RFC 822 message (``""`` if there is none)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.is_attachment():
            return _part_text(part)
    return ""


def _part_text(part: Message) -> str:
    # A bad charset must not stop the run: fall back to the raw bytes read as UTF-8.
    try:
        if isinstance(part, EmailMessage):
            content = part.get_content()
            if isinstance(content, str):
                return content
    except (LookupError, ValueError, KeyError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _html_to_text(html: str) -> str:
    from inscriptis import get_text

    return str(get_text(html))


def _from_ranges(text: str, spec: tuple[tuple[int, int], ...]) -> str:
    lines = re.split(r"\r\n|\r|\n", text)
    return "\n\n".join(normalise("\n".join(lines[a:b])) for a, b in spec)


def _asserted_case(path: str, source: str, text: str) -> Case | None:
    spec = _ASSERTED.get(Path(path).stem, ())
    if spec == ():
        return None
    if spec is None:
        return Case(path, source, text, None, "timing")
    return Case(path, source, text, _from_ranges(text, spec), "text")


def _body_case(root: Path, row: dict[str, str]) -> Case | None:
    path, source = row["path"], row["source"]
    text = _read_text(root / path)
    if source == "discourse-email_reply_trimmer":
        trimmed = root / path.replace("/emails/", "/trimmed/", 1)
        return Case(path, source, text, _read_text(trimmed), "text")
    if source == "talon" and path.endswith(".html"):
        expected = _read_text(root / row["expected"])
        if row["expected"].endswith("_html_nows.txt"):  # talon's extract_from_html() output
            expected = _html_to_text(expected)
        return Case(path, source, _html_to_text(text), expected, "nows")
    if row["expected"].endswith(".expected_reply.txt"):
        return Case(path, source, text, _read_text(root / row["expected"]), "text")
    return _asserted_case(path, source, text)


def _message_case(root: Path, row: dict[str, str]) -> Case | None:
    path, source, expected = row["path"], row["source"], row["expected"]
    text = first_plain_part((root / path).read_bytes())
    if expected.endswith(".expected_assertion.txt"):
        return Case(path, source, text, None, "no-From")
    if expected.endswith(".expected_reply.txt"):
        return Case(path, source, text, _read_text(root / expected), "text")
    return _asserted_case(path, source, text)


def load_cases(root: Path) -> Iterator[Case]:
    """Yield every corpus case that has an expectation this benchmark can check."""
    with (root / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            case: Case | None = None
            if row["category"] == "reply_body_expected":
                case = _body_case(root, row)
            elif row["category"] == "reply_expected":
                case = _message_case(root, row)
            if case is not None:
                yield case


def judge(case: Case, got: str, seconds: float) -> str:
    """Return "exact", "near" or "fail" for one output."""
    if case.mode == "timing":
        return "exact" if seconds < _TIME_LIMIT_S else "fail"
    if case.mode == "no-From":
        return "exact" if got.strip() and "From" not in got else "fail"
    ours, want = normalise(got), normalise(case.expected or "")
    if case.mode == "nows":
        ours, want = re.sub(r"\s+", "", ours), re.sub(r"\s+", "", want)
    if ours == want:
        return "exact"
    if ours.startswith(want) or want.startswith(ours):
        return "near"
    return "fail"


def run(trimmer: Trimmer, root: Path) -> Tally:
    """Run ``trimmer`` on every case under ``root`` and count the results."""
    tally = Tally()
    for case in load_cases(root):
        started = time.perf_counter()
        try:
            got = trimmer(case.text)
        except Exception as exc:  # a crash is a result to report, not a reason to stop
            got = f"<raised {exc!r}>"
        verdict = judge(case, got, time.perf_counter() - started)
        tally.total += 1
        tally.by_source[case.source] += 1
        if verdict == "exact":
            tally.exact += 1
        elif verdict == "near":
            tally.near += 1
        if verdict != "exact":
            tally.failed_by_source[case.source] += 1
            tally.failures.append((case, got))
    return tally


def _diff(case: Case, got: str) -> str:
    want = normalise(case.expected) if case.expected is not None else f"<{case.mode} check>"
    lines = difflib.unified_diff(
        want.splitlines(), normalise(got).splitlines(), "expected", "got", lineterm=""
    )
    return "\n".join(lines)


def report(tally: Tally, show_failures: bool) -> str:
    """Human-readable summary (and diffs when asked)."""
    out = [
        f"total {tally.total}  exact {tally.exact} ({tally.exact_rate:.1%})  "
        f"near {tally.near}  not exact {tally.total - tally.exact}",
        "not exact by source:",
    ]
    for source in sorted(tally.by_source):
        out.append(f"  {source:32} {tally.failed_by_source[source]:3} of {tally.by_source[source]}")
    if show_failures:
        for case, got in tally.failures:
            out.append(f"\n=== {case.path} ({case.mode})\n{_diff(case, got)}")
    return "\n".join(out)


def _load_trimmer(spec: str) -> Trimmer:
    module_name, _, attr = spec.partition(":")
    trimmer: Trimmer = getattr(importlib.import_module(module_name), attr)
    return trimmer


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--show-failures", action="store_true", help="print a diff per miss")
    parser.add_argument(
        "--impl",
        default="mailproc.intake.replytrim:visible_reply",
        help="MODULE:FUNCTION to measure instead of mailproc's trimmer",
    )
    args = parser.parse_args(argv)
    root = corpus_dir()
    if not (root / "MANIFEST.csv").is_file():
        print(f"corpus not found at {root} (set MAILPROC_CORPUS)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(report(run(_load_trimmer(args.impl), root), args.show_failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
