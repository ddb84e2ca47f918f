"""Detection and redaction of patient-identifiable data in mail text.

The design rule: normalise, then detect, then redact, mapped back. Detection runs on a
normalised view of the text (`normalise`) and every span is mapped back to the exact original
characters. CHI numbers (and NHS numbers) are found by their check digits (`checkdigits`); dates
of birth, phone numbers, postcodes, street addresses and titled names by `kinds`; site
patterns (unit numbers) come from the configuration. Two principles shape this module:

* Fail safe. Any ten-digit number whose first six digits form a valid DDMMYY date is
  reported, even when no check digit matches: a mistyped CHI still identifies a patient.
* Few false positives elsewhere. Dates that follow no birth-date label, references, money,
  clinic times, doses and longer digit runs are left alone.

Matched text is never logged; only counts and kinds are.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from mailproc.privacy import kinds
from mailproc.privacy.checkdigits import (
    CANDIDATE,
    KIND_CHI,
    KIND_CHI_LIKE,
    KIND_NHS,
    classify_number,
    follows_dial_prefix,
    is_ddmmyy,
    luhn_check_digit,
    mod11_check_digit,
)
from mailproc.privacy.kinds import KIND_ADDRESS, KIND_DOB, KIND_NAME, KIND_PHONE, KIND_POSTCODE
from mailproc.privacy.normalise import View, normalise

__all__ = [
    "KIND_ADDRESS",
    "KIND_CHI",
    "KIND_CHI_LIKE",
    "KIND_DOB",
    "KIND_NAME",
    "KIND_NHS",
    "KIND_PHONE",
    "KIND_POSTCODE",
    "CompiledPatterns",
    "ExtraPattern",
    "Finding",
    "classify_number",
    "compile_patterns",
    "describe_kinds",
    "find_pid",
    "is_ddmmyy",
    "luhn_check_digit",
    "mod11_check_digit",
    "redact",
    "redaction_label",
]

log = logging.getLogger(__name__)

_NON_DIGIT = re.compile(r"[^0-9]")
_DIGITS = re.compile(r"[0-9]+")
# An NHS number (no date inside it) is written whole or 3-3-4; the other groupings are the
# ways people split a CHI's date, and on a number without one they mostly catch tables.
NHS_GROUPINGS = ((10,), (3, 3, 4))


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


# When spans of different kinds overlap they are merged into one; the label of the merged
# span is the most sensitive kind present. Extra patterns rank after these, in config order.
_BUILTIN_RANK = {
    kind: rank
    for rank, kind in enumerate(
        (KIND_CHI, KIND_CHI_LIKE, KIND_NHS, KIND_DOB, KIND_PHONE, KIND_POSTCODE, KIND_ADDRESS, KIND_NAME)
    )
}

_LABELS = {
    KIND_CHI: "[CHI removed]",
    # A CHI-like number is most likely a CHI typed with one digit wrong; to a reader it is a
    # CHI, and the label should not suggest it was harmless.
    KIND_CHI_LIKE: "[CHI removed]",
    KIND_NHS: "[NHS number removed]",
    KIND_DOB: "[date of birth removed]",
    KIND_PHONE: "[phone number removed]",
    KIND_POSTCODE: "[postcode removed]",
    KIND_ADDRESS: "[address removed]",
    KIND_NAME: "[name removed]",
}

# How a warning or heading names each kind, in the order of `_BUILTIN_RANK`.
_DESCRIPTIONS = {
    KIND_CHI: "CHI numbers",
    KIND_CHI_LIKE: "CHI numbers",
    KIND_NHS: "NHS numbers",
    KIND_DOB: "dates of birth",
    KIND_PHONE: "phone numbers",
    KIND_POSTCODE: "postcodes",
    KIND_ADDRESS: "street addresses",
    KIND_NAME: "titled names",
}

_NEVER_KEPT = frozenset((KIND_CHI, KIND_CHI_LIKE, KIND_NHS))

_FINDERS = (
    kinds.find_dates_of_birth,
    kinds.find_phones,
    kinds.find_postcodes,
    kinds.find_addresses,
    kinds.find_names,
)


def redaction_label(kind: str) -> str:
    """Return the placeholder that replaces a span of this kind, e.g. "[CHI removed]"."""
    return _LABELS.get(kind, f"[{kind} removed]")


def describe_kinds(found: Iterable[str]) -> list[str]:
    """Plain-English names of the kinds in `found`, most sensitive first, each once
    ("CHI numbers", "dates of birth", …); an extra pattern is named by its configured name."""
    ranked = sorted(set(found), key=lambda kind: (_BUILTIN_RANK.get(kind, len(_BUILTIN_RANK)), kind))
    return list(dict.fromkeys(_DESCRIPTIONS.get(kind, kind) for kind in ranked))


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


def _number_findings(view: str) -> Iterable[tuple[str, int, int]]:
    for match in CANDIDATE.finditer(view):
        if follows_dial_prefix(view, match.start()):
            continue
        kind = classify_number(_NON_DIGIT.sub("", match.group()))
        if kind == KIND_NHS and tuple(map(len, _DIGITS.findall(match.group()))) not in NHS_GROUPINGS:
            continue  # "2025-10  2025-11" in a table is no NHS number; NHS numbers are 3-3-4
        if kind is not None:
            yield kind, match.start(), match.end()


def _builtin_findings(view: View) -> Iterable[tuple[int, Finding]]:
    """Every built-in kind, found in the normalised view and mapped back to the original."""
    spans = [*_number_findings(view.text)]
    for finder in _FINDERS:
        spans.extend(finder(view.text))
    for kind, start, end in spans:
        begin, finish = view.original_span(start, end)
        yield _BUILTIN_RANK[kind], Finding(kind, begin, finish)


def _extra_findings(text: str, view: View, compiled: CompiledPatterns) -> Iterable[tuple[int, Finding]]:
    """Configured patterns, on the original (as configured) and on the view (hidden spellings)."""
    for index, (name, regex) in enumerate(compiled.patterns):
        rank = len(_BUILTIN_RANK) + index
        for match in regex.finditer(text):
            if match.end() > match.start():
                yield rank, Finding(name, match.start(), match.end())
        for match in regex.finditer(view.text):
            if match.end() > match.start():
                begin, finish = view.original_span(match.start(), match.end())
                yield rank, Finding(name, begin, finish)


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


def find_pid(
    text: str, extra: Sequence[ExtraPattern] | CompiledPatterns = (), *, keep: Sequence[str] = ()
) -> list[Finding]:
    """Return the patient identifiers in `text`, sorted by position and non-overlapping.

    Detection runs on the normalised view (`normalise`), so a number split by a line break,
    a dash, a zero-width space or HTML tags is found; each span covers exactly the original
    characters. Built-in kinds: "chi", "chi-like", "nhs", "dob", "phone", "postcode",
    "address", "name"; each extra pattern reports its own name. `keep` lists public phrases
    (the group's members as configured, "Dr A Example") whose names and details stay; it
    never keeps a CHI or NHS number.
    Raises ValueError (naming the pattern) if an extra pattern's regex is invalid.
    """
    compiled = _as_compiled(extra)
    view = normalise(text)
    ranked = [*_builtin_findings(view), *_extra_findings(text, view, compiled)]
    if view.had_invisible:
        ranked.extend(_builtin_findings(normalise(text, invisible_separates=True)))
    findings = _merge(ranked)
    if keep and findings:
        findings = _without_kept(text, findings, keep)
    if findings:
        counts = Counter(finding.kind for finding in findings)
        log.debug("patient identifiers found: %s", dict(sorted(counts.items())))
    return findings


def _without_kept(text: str, findings: list[Finding], keep: Sequence[str]) -> list[Finding]:
    kept: list[tuple[int, int]] = []
    for phrase in filter(None, keep):
        start = text.find(phrase)
        while start >= 0:
            kept.append((start, start + len(phrase)))
            start = text.find(phrase, start + 1)
    return [
        f for f in findings
        if f.kind in _NEVER_KEPT or not any(a <= f.start and f.end <= b for a, b in kept)
    ]  # fmt: skip


def redact(
    text: str, extra: Sequence[ExtraPattern] | CompiledPatterns = (), *, keep: Sequence[str] = ()
) -> str:
    """Return `text` with every identifier span replaced whole by its label.

    For example "CHI: 010101 1237" becomes "CHI: [CHI removed]"; nothing is partially masked.
    """
    pieces: list[str] = []
    position = 0
    for finding in find_pid(text, extra, keep=keep):
        pieces.append(text[position : finding.start])
        pieces.append(redaction_label(finding.kind))
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def redact_strings(value: object, extra: Sequence[ExtraPattern] | CompiledPatterns = ()) -> object:
    """`value` with every string in it redacted, through dicts, lists and tuples (for output
    built from stored data, such as `issues show --json`)."""
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, dict):
        return {key: redact_strings(item, extra) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_strings(item, extra) for item in value)
    return value
