"""MIME parts: the text body, the attachments and the list of content types.

The walk does not descend into enclosed messages (`message/*`): a forwarded or bounced
message is one part of this message, kept whole as a `.eml` attachment. Its own parts are
the enclosed sender's, so a human who forwards a bounce has not sent a bounce.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from email.message import Message

import inscriptis

from mailproc.intake.inbound import AttachmentPart
from mailproc.intake.parsing.base64body import clean_base64
from mailproc.intake.parsing.charsets import decode_bytes
from mailproc.intake.parsing.fields import clean_text, decode_words, unfold

log = logging.getLogger(__name__)

_BODY_TYPES = ("text/plain", "text/html")
_ENCLOSED_TYPES = ("message/rfc822", "message/global")
_MAX_NAME = 120
_MAX_EXTENSION = 16
_FALLBACK_NAME = "attachment.bin"
_OCTET_STREAM = "application/octet-stream"
_MAX_CONTENT_TYPE = 255
_WINDOWS_DEVICES = re.compile(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\..*)?")
# "<" excluded inside too: `<[^>]*>` rescans to the end from every "<" of a run without ">".
_TAGS = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Leaf:
    """A part with content (not a container), with what the walk learnt about it."""

    part: Message
    content_type: str
    filename: str
    disposition: str

    @property
    def is_body(self) -> bool:
        """Text meant to be read as the message, not a file that came with it."""
        if self.filename or self.disposition == "attachment":
            return False
        return self.content_type in _BODY_TYPES or self.content_type.startswith("multipart/")


def walk(tree: Message) -> tuple[list[str], list[Leaf]]:
    """Every part's content type (pre-order, top first) and the leaf parts, iteratively."""
    types: list[str] = []
    leaves: list[Leaf] = []
    stack = [tree]
    while stack:
        part = stack.pop()
        ctype = _content_type(part)
        types.append(ctype)
        # is_multipart() first: get_payload() of a leaf decodes, and can raise on hostile bytes.
        if ctype.startswith("message/") or not part.is_multipart():
            leaves.append(Leaf(part, ctype, _filename(part), _disposition(part)))
        else:
            stack.extend(reversed([p for p in part.get_payload() if isinstance(p, Message)]))
    return types, leaves


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type().lower()
    except Exception:  # a header the default policy cannot parse
        return _OCTET_STREAM
    # RFC 6838 caps type and subtype at 127 characters each; longer is hostile.
    return ctype if len(ctype) <= _MAX_CONTENT_TYPE else _OCTET_STREAM


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # RFC 2231 parameters in the wild break in creative ways
        return ""
    return decode_words(unfold(str(name))) if name else ""


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def payload_bytes(part: Message) -> bytes:
    """The decoded content of a leaf part; b"" when there is none or it cannot be decoded."""
    clean = clean_base64(part)  # most attachments: decoded without email's copies
    if clean is not None:
        return clean
    try:
        data = part.get_payload(decode=True)
    except Exception:  # broken base64/uuencode is usually tolerated, but not always
        return b""
    return data if isinstance(data, bytes) else b""


def part_text(part: Message) -> str:
    """A text part decoded with its charset, leniently, with LF line endings."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_bytes(payload_bytes(part), charset)
    return clean_text(text.replace("\r\n", "\n").replace("\r", "\n"))


def body_text(leaves: list[Leaf]) -> str:
    """The text/plain body parts joined; HTML converted to text where there is no plain text."""
    plain = [part_text(leaf.part) for leaf in leaves if leaf.is_body and leaf.content_type != "text/html"]
    text = "\n".join(t for t in plain if t.strip())
    if text.strip():
        return text
    html = [part_text(leaf.part) for leaf in leaves if leaf.is_body and leaf.content_type == "text/html"]
    return "\n".join(html_to_text(h) for h in html if h.strip())


def first_text(leaves: list[Leaf]) -> str:
    """The first body part alone (plain, else HTML as text): where triage commands are read."""
    for leaf in leaves:
        if leaf.is_body:
            text = part_text(leaf.part)
            return html_to_text(text) if leaf.content_type == "text/html" else text
    return ""


def html_to_text(html: str) -> str:
    """Readable text from HTML, keeping table and list layout; crude tag stripping if it fails."""
    try:
        return clean_text(inscriptis.get_text(html))
    except Exception:  # lxml rejects some documents outright
        log.warning("inscriptis could not convert an HTML body; stripping tags instead")
        return _TAGS.sub(" ", html)


def attachments(leaves: list[Leaf]) -> tuple[AttachmentPart, ...]:
    """Every leaf that is not body text, decoded; enclosed messages become `.eml` files."""
    found: list[AttachmentPart] = []
    for leaf in leaves:
        if leaf.is_body:
            continue
        if leaf.content_type in _ENCLOSED_TYPES:
            data, name = _enclosed(leaf)
        elif leaf.content_type.startswith("message/"):
            continue  # delivery-status and the like: report data, listed in content_types
        else:
            data, name = payload_bytes(leaf.part), leaf.filename or _unnamed(leaf.content_type)
        found.append(AttachmentPart(sanitise_filename(name), leaf.content_type, data))
    return tuple(found)


def _enclosed(leaf: Leaf) -> tuple[bytes, str]:
    payload = leaf.part.get_payload() if leaf.part.is_multipart() else None
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return payload_bytes(leaf.part), leaf.filename or "message.eml"
    try:
        data = inner.as_bytes()
    except Exception:  # the generator can fail on what the parser tolerated
        data = b""
    if leaf.filename:
        return data, leaf.filename
    subject = decode_words(unfold(str(inner.get("subject", "") or "")))
    return data, f"{subject[:100] or 'message'}.eml"


def _unnamed(content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment{extension}"


def sanitise_filename(name: str) -> str:
    """A safe file name from an untrusted one.

    Paths and control/format characters are removed, the name is NFC-normalised, anything
    but letters, digits, space and `._()-` becomes `_`, leading dots go, and the result is
    at most 120 characters with the extension kept; "attachment.bin" if nothing is left.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch if _allowed(ch) else "_" for ch in base)
    base = " ".join(base.split()).lstrip(". ").rstrip(". ")
    if not base.strip("_"):
        return _FALLBACK_NAME
    if _WINDOWS_DEVICES.fullmatch(base):
        base = f"_{base}"
    return _shorten(base)


def _allowed(ch: str) -> bool:
    return ch in " ._()-" or unicodedata.category(ch)[0] in "LNM"


def _shorten(base: str) -> str:
    if len(base) <= _MAX_NAME:
        return base
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or len(extension) > _MAX_EXTENSION:
        return base[:_MAX_NAME].rstrip(". ")
    return f"{stem[: _MAX_NAME - len(extension) - 1].rstrip('. ')}.{extension}"
