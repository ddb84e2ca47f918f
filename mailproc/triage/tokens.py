"""HMAC reply tokens: proof that a command answers the triage request we sent to that admin.

A token rides in the subject of a triage request (`[IFG-2026-0042 #ak3f1-...]`), so a plain
reply carries it back. It binds the issue reference, the administrator's address and the hour
it was issued, under a secret only the server knows.

Format: `<hours since the Unix epoch, base36>-<first 80 bits of HMAC-SHA256, base32>`, all
lower-case letters, digits and one hyphen: safe in subjects and URLs, 21 characters today.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MAC_BYTES = 10  # 80 bits: forging one needs ~2**80 guesses, each a reply we would log
_SECONDS_PER_HOUR = 3600
_MIN_SECRET_BYTES = 16
# Clocks on the host that issued a token and the one verifying it may disagree a little.
_CLOCK_SKEW = timedelta(minutes=5)
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(r"([0-9a-z]{1,7})-([a-z2-7]{16})")


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a token; `reason` is "ok" or why it was refused."""

    ok: bool
    reason: str


def make_token(secret: bytes, reference: str, admin: str, issued: datetime) -> str:
    """Return the reply token for `reference` sent to `admin` at `issued` (timezone-aware)."""
    _check_secret(secret)
    hours = int(_timestamp(issued, "issued")) // _SECONDS_PER_HOUR
    if hours < 0:
        raise ValueError("issued must not be before 1970")
    return f"{_base36(hours)}-{_mac(secret, reference, admin, hours)}"


def verify_token(
    secret: bytes,
    token: str,
    reference: str,
    admin: str,
    now: datetime,
    max_age: timedelta,
) -> TokenCheck:
    """Check that `token` was issued by us for this issue and admin, and is not too old."""
    _check_secret(secret)
    now_ts = _timestamp(now, "now")
    # Base32 and base36 are case-insensitive, so an upper-cased subject still verifies.
    match = _TOKEN.fullmatch(token.strip().lower())
    # A leading zero would give a second spelling of the same token; only one is ours.
    if match is None or _base36(int(match[1], 36)) != match[1]:
        return TokenCheck(False, "malformed")
    hours = int(match[1], 36)
    if not hmac.compare_digest(_mac(secret, reference, admin, hours), match[2]):
        return TokenCheck(False, "wrong issue or administrator")
    # Compare plain numbers: a forged far-future hour must not overflow datetime arithmetic.
    issued_ts = hours * _SECONDS_PER_HOUR
    if issued_ts > now_ts + _CLOCK_SKEW.total_seconds():
        return TokenCheck(False, "issued in the future")
    if now_ts - issued_ts > max_age.total_seconds():
        return TokenCheck(False, "expired")
    return TokenCheck(True, "ok")


def _check_secret(secret: bytes) -> None:
    if len(secret) < _MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {_MIN_SECRET_BYTES} bytes long")


def _timestamp(moment: datetime, name: str) -> float:
    # A naive datetime could be local time or UTC; guessing would shift every token's age.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.timestamp()


def _mac(secret: bytes, reference: str, admin: str, hours: int) -> str:
    # JSON keeps the fields unambiguous whatever characters they contain.
    canonical = json.dumps(
        ["mailproc-reply-token-v1", reference.strip().upper(), admin.strip().lower(), hours]
    )
    digest = hmac.new(secret, canonical.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").lower()


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _DIGITS36[remainder] + digits
        if number == 0:
            return digits
