"""Base64 leaf parts decoded without the copies email's get_payload(decode=True) makes.

email encodes the payload string to bytes, splits it into lines, joins them and pads the
result before decoding: four copies of a part that may be most of a 25 MB message. Clean
base64 (only the alphabet, line breaks and final padding, whole quanta) decodes straight
from the string to the same bytes; anything else goes the way email goes, with its
tolerance of damage.
"""

from __future__ import annotations

import binascii
import re
from email.message import Message

_ALPHABET_AND_BREAKS = re.compile(r"[A-Za-z0-9+/\r\n]*")
_PADDING = re.compile(r"={0,2}[\r\n]*")


def clean_base64(part: Message) -> bytes | None:
    """The decoded content of a clean base64 leaf; None for anything else (not base64, not
    a string, or damaged: then email's own decoding applies)."""
    if part.is_multipart() or str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
        return None
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    pad = payload.find("=")
    end = len(payload) if pad < 0 else pad
    # pos/endpos and count ranges: no slice of the (large) payload is made.
    if not _ALPHABET_AND_BREAKS.fullmatch(payload, 0, end) or not _PADDING.fullmatch(payload, end):
        return None
    quanta = end - payload.count("\n", 0, end) - payload.count("\r", 0, end)
    quanta += len(payload) - end - payload.count("\n", end) - payload.count("\r", end)
    if quanta % 4:
        return None
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return None
