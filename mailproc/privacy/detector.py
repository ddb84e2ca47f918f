"""Detection and redaction of patient-identifiable data in mail text.

The design rule: CHI numbers (and NHS numbers) are found by their check digits and are
removed from everything that leaves the core. Two principles shape this module:

* Fail safe. Any ten-digit number whose first six digits form a valid DDMMYY date is
  reported, even when no check digit matches: a mistyped CHI still identifies a patient.
* Few false positives elsewhere. Phone numbers (11 digits with the trunk 0, or written after
  a country code), dates, references, money and longer digit runs are not ten-digit numbers
  and are left alone.

Matched text is never logged; only counts and kinds are.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "KIND_CHI",
    "KIND_CHI_LIKE",
    "KIND_NHS",
    "CompiledPatterns",
    "ExtraPattern",
    "Finding",
    "classify_number",
    "compile_patterns",
    "find_pid",
    "is_ddmmyy",
    "luhn_check_digit",
    "mod11_check_digit",
    "redact",
    "redaction_label",
]

log = logging.getLogger(__name__)

KIND_CHI = "chi"
KIND_CHI_LIKE = "chi-like"
KIND_NHS = "nhs"


@dataclass(frozen=True)
class ExtraPattern:
    """A site-specific identifier from config (`[[privacy.patterns]]`), e.g. a unit number."""

    name: str
    regex: str


@dataclass(frozen=True)
class Finding:
    """One identifier in a text: `text[start:end]` is the whole matched span."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class CompiledPatterns:
    """Extra patterns compiled once; accepted by `find_pid` and `redact` in place of a list."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()


# People type the groups apart with spaces or hyphens; text converted from HTML or word
# processors brings no-break spaces and Unicode hyphens/dashes, which must not hide a number.
_SEP = "[ \u00a0\u202f\\-\u2010\u2011\u2013]"

# The spellings: 3-3-4, 2-2-2-4 (a CHI written as its date, DD MM YY, then the rest), 6-4
# and contiguous. The alternatives cannot both match at one position (their first
# separators sit at different offsets), and a span can never contain the start of
# another candidate, so a plain non-overlapping scan sees every candidate. The lookarounds
# keep the 10 digits from being a slice of a longer digit run (12-digit numbers,
# 11-digit phones such as 07700900123 or 0131 242 1000, where "131 242 1000" follows a 0).
# The pattern opens with the first digit and only then looks back ("not two digits in a
# row here"): a leading character class lets the regex engine skip text without digits
# quickly, about ten times faster on ordinary prose than a leading lookbehind.
_CANDIDATE = re.compile(
    rf"[0-9](?<![0-9]{{2}})"
    rf"(?:[0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}"
    rf"|[0-9]{_SEP}[0-9]{{2}}{_SEP}[0-9]{{2}}{_SEP}[0-9]{{4}}"
    rf"|[0-9]{{5}}{_SEP}[0-9]{{4}}"
    rf"|[0-9]{{9}})(?![0-9])"
)

# A "+" country code just before the candidate ("+44 131 242 1000", "(+44) …",
# "+44 (0)131 …") makes the digits part of a longer international phone number. The "00"
# dialling form is deliberately not recognised: "Bed 0012 <CHI>" must not hide a CHI.
_DIAL_PREFIX = re.compile(r"\+[0-9]{1,3}\)?[ \u00a0.\-]?(?:\(0\)[ \u00a0.\-]?)?\Z")
_DIAL_PREFIX_LOOKBACK = 12

_NON_DIGIT = re.compile(r"[^0-9]")

# Index 1 (February) allows 29; whether the 29th exists is decided by `is_ddmmyy`.
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# When spans of different kinds overlap they are merged into one; the label of the merged
# span is the most sensitive kind present. Extra patterns rank after these, in config order.
_BUILTIN_RANK = {KIND_CHI: 0, KIND_CHI_LIKE: 1, KIND_NHS: 2}

_LABELS = {
    KIND_CHI: "[CHI removed]",
    # A CHI-like number is most likely a CHI typed with one digit wrong; to a reader it is a
    # CHI, and the label should not suggest it was harmless.
    KIND_CHI_LIKE: "[CHI removed]",
    KIND_NHS: "[NHS number removed]",
}


def _is_ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def is_ddmmyy(six: str) -> bool:
    """Return True if `six` is a valid DDMMYY date in some century.

    The century is unknown, so 29 February is accepted whenever YY is divisible by 4,
    including 00 (2000 was a leap year; being permissive errs towards redaction).
    """
    if not _is_ascii_digits(six, 6):
        return False
    day, month, year = int(six[0:2]), int(six[2:4]), int(six[4:6])
    if not 1 <= month <= 12:
        return False
    if month == 2 and day == 29:
        return year % 4 == 0
    return 1 <= day <= _DAYS_IN_MONTH[month - 1]


def mod11_check_digit(first_nine: str) -> int | None:
    """Return the modulus-11 check digit for nine digits, or None if none exists.

    Weights 10..2 over the nine digits; check = 11 - (sum mod 11), where 11 means 0 and
    10 means that no number is issued with these nine digits. Used by CHI and NHS numbers.
    """
    if not _is_ascii_digits(first_nine, 9):
        raise ValueError("expected exactly nine ASCII digits")
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def luhn_check_digit(first_nine: str) -> int:
    """Return the modulus-10 check digit that new CHI numbers may carry.

    Our reading of the modulus-10 scheme NHS Scotland introduced (from late 2025/2026) for
    dates whose modulus-11 numbers are used up: it is the Luhn algorithm (ISO/IEC 7812-1,
    "double-add-double") over the whole ten-digit number. Counting from the rightmost of the
    nine digits, every other digit is doubled (9 subtracted when the result exceeds 9); the
    check digit brings the total to a multiple of 10. This agrees with Public Health
    Scotland's published `chi_check` behaviour.
    """
    if not _is_ascii_digits(first_nine, 9):
        raise ValueError("expected exactly nine ASCII digits")
    total = 0
    for position, char in enumerate(reversed(first_nine)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return (10 - total % 10) % 10


def classify_number(digits: str) -> str | None:
    """Classify ten contiguous digits as "chi", "chi-like", "nhs", or None (not PID).

    A valid DDMMYY prefix makes the number a CHI candidate: "chi" if either check digit
    scheme matches, else "chi-like" (reported anyway: fail safe). Without a date prefix it
    is an NHS number only if the modulus-11 check matches.
    """
    if not _is_ascii_digits(digits, 10):
        return None
    check = int(digits[9])
    passes_mod11 = mod11_check_digit(digits[:9]) == check
    if is_ddmmyy(digits[:6]):
        if passes_mod11 or luhn_check_digit(digits[:9]) == check:
            return KIND_CHI
        return KIND_CHI_LIKE
    return KIND_NHS if passes_mod11 else None


def redaction_label(kind: str) -> str:
    """Return the placeholder that replaces a span of this kind, e.g. "[CHI removed]"."""
    return _LABELS.get(kind, f"[{kind} removed]")


def compile_patterns(extra: Sequence[ExtraPattern]) -> CompiledPatterns:
    """Compile configured extra patterns, raising ValueError that names a bad one.

    A pattern that matches the empty string is refused: it would either find nothing or
    redact between every character, and either way the configuration is a mistake.
    """
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for pattern in extra:
        if not pattern.name.strip():
            raise ValueError(f"privacy pattern with regex {pattern.regex!r} has an empty name")
        try:
            regex = re.compile(pattern.regex)
        except re.error as exc:
            raise ValueError(
                f"privacy pattern {pattern.name!r}: invalid regex {pattern.regex!r}: {exc}"
            ) from exc
        if regex.fullmatch("") is not None:
            raise ValueError(f"privacy pattern {pattern.name!r}: regex matches the empty string")
        compiled.append((pattern.name, regex))
    return CompiledPatterns(tuple(compiled))


# Callers usually pass the same configured tuple for every message; the memo means each
# regex is compiled once per distinct configuration rather than once per call.
@lru_cache(maxsize=16)
def _compile_cached(extra: tuple[ExtraPattern, ...]) -> CompiledPatterns:
    return compile_patterns(extra)


def _as_compiled(extra: Sequence[ExtraPattern] | CompiledPatterns) -> CompiledPatterns:
    if isinstance(extra, CompiledPatterns):
        return extra
    return _compile_cached(tuple(extra))


def _follows_dial_prefix(text: str, start: int) -> bool:
    window = text[max(0, start - _DIAL_PREFIX_LOOKBACK) : start]
    return _DIAL_PREFIX.search(window) is not None


def _builtin_findings(text: str) -> Iterable[tuple[int, Finding]]:
    for match in _CANDIDATE.finditer(text):
        if _follows_dial_prefix(text, match.start()):
            continue
        kind = classify_number(_NON_DIGIT.sub("", match.group()))
        if kind is not None:
            yield _BUILTIN_RANK[kind], Finding(kind, match.start(), match.end())


def _extra_findings(text: str, compiled: CompiledPatterns) -> Iterable[tuple[int, Finding]]:
    for index, (name, regex) in enumerate(compiled.patterns):
        rank = len(_BUILTIN_RANK) + index
        for match in regex.finditer(text):
            if match.end() > match.start():
                yield rank, Finding(name, match.start(), match.end())


def _merge(ranked: Iterable[tuple[int, Finding]]) -> list[Finding]:
    """Merge overlapping spans so that redaction removes their union, never a part."""
    ordered = sorted(ranked, key=lambda item: (item[1].start, -item[1].end, item[0]))
    merged: list[tuple[int, Finding]] = []
    for rank, finding in ordered:
        if merged and finding.start < merged[-1][1].end:
            top_rank, top = merged[-1]
            best_rank, kind = min((top_rank, top.kind), (rank, finding.kind))
            merged[-1] = (best_rank, Finding(kind, top.start, max(top.end, finding.end)))
        else:
            merged.append((rank, finding))
    return [finding for _, finding in merged]


def find_pid(text: str, extra: Sequence[ExtraPattern] | CompiledPatterns = ()) -> list[Finding]:
    """Return the patient identifiers in `text`, sorted by position and non-overlapping.

    Built-in kinds are "chi", "chi-like" and "nhs"; each extra pattern reports its own name.
    Raises ValueError (naming the pattern) if an extra pattern's regex is invalid.
    """
    compiled = _as_compiled(extra)
    findings = _merge([*_builtin_findings(text), *_extra_findings(text, compiled)])
    if findings:
        counts = Counter(finding.kind for finding in findings)
        log.debug("patient identifiers found: %s", dict(sorted(counts.items())))
    return findings


def redact(text: str, extra: Sequence[ExtraPattern] | CompiledPatterns = ()) -> str:
    """Return `text` with every identifier span replaced whole by its label.

    For example "CHI: 010101 1237" becomes "CHI: [CHI removed]"; nothing is partially masked.
    """
    pieces: list[str] = []
    position = 0
    for finding in find_pid(text, extra):
        pieces.append(text[position : finding.start])
        pieces.append(redaction_label(finding.kind))
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)
