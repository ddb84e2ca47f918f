"""Clean base64 parts decode to exactly what email's get_payload(decode=True) gives; others
are left to email."""

from __future__ import annotations

import base64
import random
from email import message_from_bytes, policy
from email.message import Message

import pytest

from mailproc.intake.parsing.base64body import clean_base64
from mailproc.intake.parsing.parts import payload_bytes


def leaf(body: str, cte: str = "base64") -> Message:
    head = f"Content-Type: application/pdf\nContent-Transfer-Encoding: {cte}\n\n"
    return message_from_bytes((head + body).encode("latin-1"), policy=policy.compat32)


def wrapped(data: bytes, width: int, newline: str) -> str:
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + width] + newline for i in range(0, len(text), width))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_clean_base64_decodes_as_email_does(newline: str) -> None:
    rng = random.Random(12)
    for size in [*range(0, 70), 1000, 57 * 1000 + 1, 100_003]:
        data = rng.randbytes(size)
        part = leaf(wrapped(data, rng.choice([60, 76, 4, 1000]), newline))
        assert clean_base64(part) == part.get_payload(decode=True) == data


@pytest.mark.parametrize(
    "body",
    [
        "QUJD\nRA\n",  # padding missing
        "QUJD\nR!E=\n",  # a character outside the alphabet
        "QQ==QUJD\n",  # padding in the middle
        "QUJD \nREVG\n",  # a space inside
        "QUJD\nRA=\nx\n",  # text after the padding
        "QUJDé\n",  # not ASCII
    ],
)
def test_damaged_base64_is_left_to_email(body: str) -> None:
    part = leaf(body)
    assert clean_base64(part) is None
    expected = part.get_payload(decode=True)
    assert payload_bytes(leaf(body)) == expected


def test_other_encodings_are_left_to_email() -> None:
    for cte in ("quoted-printable", "7bit", "8bit", ""):
        assert clean_base64(leaf("QUJD\n", cte)) is None
