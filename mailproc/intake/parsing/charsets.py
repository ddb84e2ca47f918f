"""Lenient text decoding: real mail lies about its charset, and a wrong guess must never raise."""

from __future__ import annotations

import codecs
import re

# Labels that mail clients use for a superset of what they declare (the WHATWG Encoding
# Standard makes browsers do the same), and Microsoft names Python does not know.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "windows-874": "cp874",
}
# Used when the charset is missing or unknown and the bytes are not UTF-8: every byte maps
# to something, and Windows-1252 is what unlabelled 8-bit mail most often turns out to be.
_LAST_RESORT = "cp1252"


def codec_for(charset: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when unknown or absent."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    # Some codecs (base64, zlib, rot13) are bytes-to-bytes transforms, not text encodings.
    try:
        b"".decode(info.name)
    except LookupError:
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` as the declared `charset`, falling back to UTF-8, then Windows-1252.

    Never raises: undecodable bytes become U+FFFD.
    """
    codec = codec_for(charset)
    # A Windows-1252 label (which covers ASCII and Latin-1) is so often stuck on UTF-8 text
    # that UTF-8 is tried first; Windows-1252 text is almost never valid UTF-8.
    if codec is not None and codec != "cp1252":
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(codec or _LAST_RESORT, errors="replace")
    except (UnicodeError, LookupError):
        return data.decode(_LAST_RESORT, errors="replace")


_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def fix_surrogates(text: str) -> str:
    """Turn the surrogate escapes `email` uses for raw 8-bit header bytes back into text."""
    if text.isascii() or not _SURROGATE_ESCAPE.search(text):  # the common case, at C speed
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)
