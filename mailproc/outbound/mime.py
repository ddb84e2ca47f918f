"""MIME bytes for our one shape of message, written directly: headers, then alternatives.

The standard library's `EmailMessage` parses every header it is given and folds it again
when it writes, about 4 ms a message here: more than sending it. Our headers are known and
already made safe (`headers.safe_header`, `safe_address`), so they are written as they are,
folded at spaces; a value that is not ASCII becomes RFC 2047 encoded-words (`Header`).
Bodies are quoted-printable exactly as `EmailMessage.set_content(cte="quoted-printable")`
makes them, so the output stays 7-bit clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email import quoprimime
from email.header import Header

CRLF = "\r\n"
FOLD_AT = 78  # RFC 5322's recommended line length; a longer word is kept whole (limit 998)
_MAX_LINE = 998


@dataclass(frozen=True)
class Part:
    """One alternative: `subtype` of text/, its text, and extra Content-Type parameters."""

    subtype: str
    text: str
    params: tuple[tuple[str, str], ...] = ()


def message_bytes(headers: Sequence[tuple[str, str]], parts: Sequence[Part], boundary: str) -> bytes:
    """A multipart/alternative message with `headers` on top; CRLF line ends, ASCII only."""
    out = [header_line(name, value) for name, value in headers]
    out.append("MIME-Version: 1.0" + CRLF)
    out.append(f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}')
    out.append(CRLF)
    for part in parts:
        params = "".join(f'; {key}="{value}"' for key, value in part.params)
        out.append(f"--{boundary}{CRLF}")
        out.append(f'Content-Type: text/{part.subtype}; charset="utf-8"{params}{CRLF}')
        out.append(f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}")
        out.append(quoted_printable(part.text))
        out.append(CRLF)
    out.append(f"--{boundary}--{CRLF}")
    return "".join(out).encode("ascii")


def header_line(name: str, value: str) -> str:
    """`Name: value` folded, with its CRLF; encoded-words when `value` is not ASCII."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"a line break in the {name} header")  # safe_header removes them first
    if not value.isascii():
        encoded = Header(value, "utf-8", maxlinelen=FOLD_AT, header_name=name).encode(linesep=CRLF)
        return f"{name}: {encoded}{CRLF}"
    lines: list[str] = []
    line = f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > FOLD_AT and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    if any(len(x) > _MAX_LINE for x in lines):
        raise ValueError(f"the {name} header has a word too long for one line")
    return CRLF.join(lines) + CRLF


def quoted_printable(text: str) -> str:
    """`text` as a quoted-printable body of UTF-8, its lines ended by CRLF."""
    body = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    encoded = quoprimime.body_encode(body.decode("latin-1"), FOLD_AT)
    return encoded.replace("\n", CRLF)
