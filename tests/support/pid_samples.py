"""A labelled set of texts with and without patient identifiers, generated in code.

Shared by `tests/test_privacy.py` and `benchmarks/pid_detection.py`. Everything comes
from a seeded `random.Random`, so the set is identical on every run and machine. The
numbers are synthetic; the check digits are computed here independently of
`mailproc.privacy` (a different formulation of each scheme), so the labels do not
inherit a bug from the code under test.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial

DEFAULT_SEED = 20261121
# One valid CHI for end-to-end tests: 01 Jan 1901/2001, modulus-11 check digit 7.
CHI = "0101011237"


@dataclass(frozen=True)
class Sample:
    """One labelled text; for a positive, `spelled` is the identifier exactly as written."""

    text: str
    category: str
    kind: str | None = None
    spelled: str | None = None

    @property
    def digits(self) -> str | None:
        """The identifier's ten digits without separators (positives only)."""
        if self.spelled is None:
            return None
        return "".join(char for char in self.spelled if char.isdigit())


# --- check digits and dates, written independently of the module under test -------------


def mod11_ok(ten: str) -> bool:
    """Weights 10..1 over all ten digits sum to a multiple of 11 (the ISBN-10 view)."""
    return sum(int(char) * (10 - index) for index, char in enumerate(ten)) % 11 == 0


def luhn_ok(ten: str) -> bool:
    """The textbook Luhn test: double every second digit from the right, sum digit sums."""
    total = 0
    for index, char in enumerate(reversed(ten)):
        doubled = int(char) * (2 if index % 2 else 1)
        total += doubled // 10 + doubled % 10
    return total % 10 == 0


def ddmmyy_ok(six: str) -> bool:
    """A real calendar date when read in the 2000s (2000 is a leap year, so YY=00 allows 29 Feb)."""
    try:
        date(2000 + int(six[4:6]), int(six[2:4]), int(six[0:2]))
    except ValueError:
        return False
    return True


def all_ddmmyy() -> Iterator[str]:
    """Every valid DDMMYY prefix, in calendar order (36,525 of them)."""
    for year in range(100):
        for month in range(1, 13):
            for day in range(1, 32):
                six = f"{day:02d}{month:02d}{year:02d}"
                if ddmmyy_ok(six):
                    yield six


# --- number generators ---------------------------------------------------------------------


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _random_ddmmyy(rng: random.Random) -> str:
    while True:
        six = f"{rng.randint(1, 31):02d}{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}"
        if ddmmyy_ok(six):
            return six


def _non_date_prefix(rng: random.Random) -> str:
    # NHS numbers in England and Wales start 4-7; day 40+ can never be a date.
    while True:
        six = str(rng.randint(4, 9)) + _digits(rng, 5)
        if not ddmmyy_ok(six):
            return six


def _complete(rng: random.Random, prefix: str, accept: Callable[[str], bool]) -> str:
    """Append digits until the ten-digit number satisfies `accept`."""
    while True:
        nine = prefix + _digits(rng, 9 - len(prefix))
        candidates = [nine + check for check in string.digits if accept(nine + check)]
        if candidates:
            return rng.choice(candidates)


def chi_mod11(rng: random.Random) -> str:
    """A CHI number with a valid date and a correct modulus-11 check digit."""
    return _complete(rng, _random_ddmmyy(rng), mod11_ok)


def chi_mod10(rng: random.Random) -> str:
    """A new-style CHI number whose check digit passes only the Luhn (modulus-10) test."""
    return _complete(rng, _random_ddmmyy(rng), lambda ten: luhn_ok(ten) and not mod11_ok(ten))


def chi_like(rng: random.Random) -> str:
    """A valid date prefix but a check digit that passes neither scheme."""
    return _complete(rng, _random_ddmmyy(rng), lambda ten: not (luhn_ok(ten) or mod11_ok(ten)))


def nhs_number(rng: random.Random) -> str:
    """An England/Wales NHS number: modulus-11 valid, first six digits not a date."""
    return _complete(rng, _non_date_prefix(rng), mod11_ok)


def invalid_ten(rng: random.Random) -> str:
    """Ten digits that are no identifier: no date prefix and a failing modulus-11 check."""
    while True:
        six = _digits(rng, 6)
        if not ddmmyy_ok(six):
            return _complete(rng, six, lambda ten: not mod11_ok(ten))


# --- spellings and surrounding text ----------------------------------------------------------

SPACINGS: dict[str, Callable[[str], str]] = {
    "contiguous": lambda d: d,
    "3-3-4 spaces": lambda d: f"{d[:3]} {d[3:6]} {d[6:]}",
    "3-3-4 hyphens": lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}",
    "6-4 space": lambda d: f"{d[:6]} {d[6:]}",
    "6-4 hyphen": lambda d: f"{d[:6]}-{d[6:]}",
    "2-2-2-4 spaces": lambda d: f"{d[:2]} {d[2:4]} {d[4:6]} {d[6:]}",
    "2-2-2-4 hyphens": lambda d: f"{d[:2]}-{d[2:4]}-{d[4:6]}-{d[6:]}",
    # The classes of issue 11: how mail clients and people really write the number.
    "4-2-4 spaces": lambda d: f"{d[:4]} {d[4:6]} {d[6:]}",
    "3-2-2-3 spaces": lambda d: f"{d[:3]} {d[3:5]} {d[5:7]} {d[7:]}",
    "6-4 line break": lambda d: f"{d[:6]}\n{d[6:]}",
    "6-4 CRLF": lambda d: f"{d[:6]}\r\n{d[6:]}",
    "3-3-4 flowed": lambda d: f"{d[:3]} {d[3:6]} \r\n{d[6:]}",
    "6-4 en dash spaced": lambda d: f"{d[:6]} \u2013 {d[6:]}",
    "6-4 en dash": lambda d: f"{d[:6]}\u2013{d[6:]}",
    "6-4 em dash spaced": lambda d: f"{d[:6]} \u2014 {d[6:]}",
    "3-3-4 em dash": lambda d: f"{d[:3]}\u2014{d[3:6]}\u2014{d[6:]}",
    "date dotted": lambda d: f"{d[:2]}.{d[2:4]}.{d[4:6]} {d[6:]}",
    "date slashed": lambda d: f"{d[:2]}/{d[2:4]}/{d[4:6]}/{d[6:]}",
    "6-4 two spaces": lambda d: f"{d[:6]}  {d[6:]}",
    "6-4 tab": lambda d: f"{d[:6]}\t{d[6:]}",
    "3-3-4 minus sign": lambda d: f"{d[:3]}\u2212{d[3:6]}\u2212{d[6:]}",
    "6-4 underscore": lambda d: f"{d[:6]}_{d[6:]}",
    "zero-width space": lambda d: f"{d[:4]}\u200b{d[4:]}",
    "6-4 soft hyphen": lambda d: f"{d[:6]}\u00ad{d[6:]}",
    "word joiner and ZWJ": lambda d: f"{d[:3]}\u2060{d[3:7]}\u200d{d[7:]}",
    "full-width": lambda d: "".join(chr(0xFF10 + int(c)) for c in d),
    "html br": lambda d: f"{d[:6]}<br>{d[6:]}",
    "html cells": lambda d: f"{d[:6]}</td><td>{d[6:]}",
    "no-break space": lambda d: f"{d[:6]}\u00a0{d[6:]}",
}

CONTEXTS: tuple[str, ...] = (
    "{n}",
    "{n} was seen in clinic on 21/11/2026 and discharged.",
    "Patient CHI:{n}, discharged without a letter.",
    "The discharge summary (CHI {n}) never reached the practice.",
    "CHI number {n}.",
    "Re: delayed results for {n}",
    "NHS No: {n}\nPlease advise by 28 November.",
    "Dear colleague,\n\nthe referral for {n} was rejected twice by the portal.",
    "<tr><td>Ward 4B</td><td>{n}</td></tr>",
    "chi={n};ward=4B",
    "Hi all,\nI am writing about the patient below.\nCHI - {n}",
    "[{n}] pharmacy query about 'weekly' dosing",
)

POSITIVE_KINDS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "chi-mod11": ("chi", chi_mod11),
    "chi-mod10": ("chi", chi_mod10),
    "chi-like": ("chi-like", chi_like),
    "nhs": ("nhs", nhs_number),
}


def nhs_grouped(spell: Callable[[str], str]) -> bool:
    """Whether a spelling writes an NHS number the way they are written: whole or 3-3-4
    (invisible characters join, everything else separates)."""
    shown = "".join(c for c in spell("0123456789") if c.isdigit() or unicodedata.category(c) != "Cf")
    groups = tuple(len(run) for run in re.findall(r"\d+", shown))
    return groups in ((10,), (3, 3, 4))


def positives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Every kind in every spelling in every context (NHS numbers only whole or 3-3-4)."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for label, (kind, make) in POSITIVE_KINDS.items():
        for spacing, spell in SPACINGS.items():
            if kind == "nhs" and not nhs_grouped(spell):
                continue  # NHS numbers are not written split by a date: see the detector
            for index, context in enumerate(CONTEXTS):
                spelled = spell(make(rng))
                category = f"{label}/{spacing}/context-{index}"
                samples.append(Sample(context.format(n=spelled), category, kind, spelled))
    return samples


def phone_formats(rng: random.Random) -> dict[str, str]:
    """UK phone numbers as people write them (positives of kind "phone")."""
    d = partial(_digits, rng)
    return {
        "phone 5-6": f"01{d(3)} {d(6)}",
        "phone 4-3-4": f"01{d(2)} {d(3)} {d(4)}",
        "phone 4-3-4 hyphens": f"01{d(2)}-{d(3)}-{d(4)}",
        "phone (4) 3-4": f"(01{d(2)}) {d(3)} {d(4)}",
        "phone 3-4-4": f"020 {d(4)} {d(4)}",
        "phone freephone": f"0800 {d(3)} {d(4)}",
        "mobile 5-6": f"07{d(3)} {d(6)}",
        "mobile contiguous": f"07{d(9)}",
        "mobile +44": f"+44 7{d(3)} {d(6)}",
        "mobile +44 contiguous": f"+447{d(9)}",
        "geographic +44": f"+44 1{d(2)} {d(3)} {d(4)}",
        "geographic +44 (0)": f"+44 (0)1{d(2)} {d(3)} {d(4)}",
        "geographic (+44)": f"(+44) 1{d(2)} {d(3)} {d(4)}",
    }


# --- negatives ---------------------------------------------------------------------------------


def _date_prefix_no_trunk(rng: random.Random) -> str:
    # An 11-digit number opening with 0 is a UK phone number, so these start at day 10.
    while True:
        six = _random_ddmmyy(rng)
        if six[0] != "0":
            return six


def _other_formats(rng: random.Random) -> dict[str, str]:
    d = partial(_digits, rng)
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2000, 2030)
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    return {
        "date iso": f"{year}-{month:02d}-{day:02d}",
        "date uk": f"{day:02d}/{month:02d}/{year}",
        "date dotted": f"{day}.{month}.{year}",
        "datetime iso": f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z",
        "date compact ddmmyyyy": f"{day:02d}{month:02d}{year}",
        "date ddmmyy alone": f"{day:02d}{month:02d}{year % 100:02d}",
        "reference": f"IFG-{year}-{rng.randint(1, 9999):04d}",
        "time": f"{hour:02d}:{minute:02d}",
        "time seconds": f"{hour:02d}:{minute:02d}:{rng.randint(0, 59):02d}",
        "money": f"£{rng.randint(1, 999)},{d(3)}.{d(2)}",
        "money millions": f"£{rng.randint(1, 99)},{d(3)},{d(3)}.{d(2)}",
        "8 digits": d(8),
        "sort code and account": f"{d(2)}-{d(2)}-{d(2)} {d(8)}",
        "9 digits": d(9),
        "9 digits 3-3-3": f"{d(3)} {d(3)} {d(3)}",
        "11 digits date-prefixed": _date_prefix_no_trunk(rng) + d(5),
        "11 digits 6-5": f"{_date_prefix_no_trunk(rng)} {d(5)}",
        "11 digits 3-3-5": f"{d(3)}-{d(3)}-{d(5)}",
        "12 digits date-prefixed": _random_ddmmyy(rng) + d(6),
        "12 digits 4-4-4": f"{d(4)} {d(4)} {d(4)}",
        "16 digits 4x4": f"{d(4)} {d(4)} {d(4)} {d(4)}",
    }


NEGATIVE_CONTEXTS: tuple[str, ...] = (
    "{n}",
    "As discussed, {n} - see the minutes.",
    "Ref: {n}, see attached minutes.",
    "(value: {n})",
    "Line one\nitem {n}\nLine three",
)


def negatives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Look-alikes of CHI and NHS numbers that must not be reported: 51 formats x 5 rounds,
    plus mixed sentences. (Phone numbers and postcodes are identifiers now: see pid_kinds.)"""
    rng = random.Random(seed + 1)
    samples: list[Sample] = []
    for _ in range(5):
        formats = _other_formats(rng)
        for spacing, spell in SPACINGS.items():
            formats[f"invalid 10 digits {spacing}"] = spell(invalid_ten(rng))
        for category, value in formats.items():
            context = rng.choice(NEGATIVE_CONTEXTS)
            samples.append(Sample(context.format(n=value), category))
    samples.extend(Sample(text, "mixed") for text in _mixed_negatives(rng))
    return samples


def _mixed_negatives(rng: random.Random) -> Iterator[str]:
    for _ in range(15):
        other = _other_formats(rng)
        yield (
            f"Meeting on {other['date uk']} at {other['time']} about "
            f"{other['reference']}; budget {other['money']}. Call "
            f"extension {rng.randint(2000, 6999)} or page {rng.randint(100, 999)}."
        )
