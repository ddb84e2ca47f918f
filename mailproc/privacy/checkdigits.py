"""CHI and NHS numbers: dates, check digits, and the spellings a ten-digit number takes."""

from __future__ import annotations

import re

__all__ = [
    "CANDIDATE",
    "KIND_CHI",
    "KIND_CHI_LIKE",
    "KIND_NHS",
    "classify_number",
    "follows_dial_prefix",
    "is_ddmmyy",
    "luhn_check_digit",
    "mod11_check_digit",
]

KIND_CHI = "chi"
KIND_CHI_LIKE = "chi-like"
KIND_NHS = "nhs"

# Index 1 (February) allows 29; whether the 29th exists is decided by `is_ddmmyy`.
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


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


# The groupings people write a ten-digit number in (on the normalised view, where any run of
# separators is at most three characters, e.g. " - "): contiguous, split near the middle, the
# NHS 3-3-4, the CHI's date written DD MM YY then the rest, and a few more seen in mail.
# Groupings that a date followed by a time or a longer number would produce (2-2-4-2), or
# the tail of a sort code and account number (2-8), are deliberately absent.
GROUPINGS: tuple[tuple[int, ...], ...] = (
    (10,),
    (4, 6), (5, 5), (6, 4),
    (3, 3, 4), (4, 3, 3), (3, 4, 3), (4, 2, 4), (2, 2, 6), (2, 4, 4),
    (2, 2, 2, 4), (3, 2, 2, 3),
)  # fmt: skip

_SEP = "[ \n./-]{1,3}"


def _alternative(grouping: tuple[int, ...]) -> str:
    # The pattern's leading [0-9] has taken the first digit of the first group.
    first, *rest = grouping
    parts = [f"[0-9]{{{first - 1}}}" if first > 1 else ""]
    parts += [f"{_SEP}[0-9]{{{size}}}" for size in rest]
    return "".join(parts)


# Each alternative has a fixed shape, so a match is tried in constant time at each position
# (linear overall). The pattern opens with a digit and only then looks back ("no digit just
# before"): a leading character class lets the engine skip text without digits quickly. The
# lookarounds keep the ten digits from being a slice of a longer digit run.
CANDIDATE = re.compile("[0-9](?<![0-9]{2})(?:" + "|".join(_alternative(g) for g in GROUPINGS) + ")(?![0-9])")

# A "+" country code just before the candidate ("+44 131 242 1000", "(+44) …",
# "+44 (0)131 …") makes the digits part of a longer international phone number. The "00"
# dialling form is deliberately not recognised: "Bed 0012 <CHI>" must not hide a CHI.
_DIAL_PREFIX = re.compile(r"\+[0-9]{1,3}\)?[ .\-]?(?:\(0\)[ .\-]?)?\Z")
_DIAL_PREFIX_LOOKBACK = 12


def follows_dial_prefix(text: str, start: int) -> bool:
    """True if a "+44"-style country code ends just before `start`."""
    window = text[max(0, start - _DIAL_PREFIX_LOOKBACK) : start]
    return _DIAL_PREFIX.search(window) is not None
