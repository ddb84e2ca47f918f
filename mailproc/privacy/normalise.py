"""The normalised view of a text that detection looks at, with a map back to the original.

People and mail clients hide identifiers without meaning to: Outlook turns " - " into " – ",
`format=flowed` and hard wrapping break a number over two lines, HTML splits it into table
cells or `<br>`, word processors add soft hyphens and zero-width spaces, phones type full-width
digits, and a subject can arrive encoded twice. The view undoes all of that so that one set of
patterns sees every spelling, and `View.original_span` turns a match in the view back into the
exact original characters to redact.

The view: Unicode NFKC per character; format characters (zero-width space and joiners, word
joiner, BOM, soft hyphen, bidi marks) dropped; any decimal digit made ASCII; HTML tags become
a separator and HTML entities are decoded; RFC 2047 encoded-words are decoded once; a run of
separators (whitespace, line breaks with reply quote marks, underscores, dashes and the minus
sign, dots, slashes) becomes one character: a space if the run holds whitespace or an
underscore (". " if it opens with a full stop; a line break if it holds one), else its first
dash ("-"), dot or slash.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header

__all__ = ["View", "normalise"]

# Everything that needs more than a plain copy. Each alternative is bounded or a single
# character class, so the scan is linear in the text's length.
_TOKEN = re.compile(
    r"(?P<enc>=\?[A-Za-z0-9_*.:-]{1,40}\?[BbQq]\?[^?\s]{1,2000}\?=)"
    r"|(?P<gap>(?<=\?=)[ \t\r\n]{1,16}(?==\?))"  # between encoded-words: ignored (RFC 2047)
    r"|(?P<tag><(?:/?[A-Za-z][A-Za-z0-9]{0,15}(?:[\s/][^<>]{0,2000})?|!--[^<>]{0,2000}--)>)"
    # A tag typed as text and shown escaped in our HTML ("0101&lt;br&gt;011237") splits a
    # number for the reader just as the tag itself would.
    r"|(?P<etag>&lt;/?[A-Za-z][A-Za-z0-9]{0,15}(?:[\s/][^<>&]{0,200})?&gt;)"
    r"|(?P<ent>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    r"|(?P<quote>\n[ \t]{0,8}>[> \t]{0,40})"
    r"|(?P<sep>[ \t\r\n\f\v_./-]{2,}|[\t\r\n\f\v_])"
    r"|(?P<other>[^\x00-\x7f])"
)

_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d")
_SEPARATORS = frozenset(" \t\r\n\f\v_./>") | _DASHES


@dataclass(frozen=True)
class View:
    """A normalised text and, per segment of it, where it came from in the original.

    Segment i starts at `starts[i]` in `text` and came from `origin[i] = (start, end)`;
    in an identity segment each character maps to one original character in order, in any
    other segment every character maps to the whole original range.
    """

    text: str
    starts: tuple[int, ...]
    origin: tuple[tuple[int, int], ...]
    identity: tuple[bool, ...]
    had_invisible: bool = False  # an invisible character was dropped (see `normalise`)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind `text[start:end]` (end > start)."""
        first = bisect_right(self.starts, start) - 1
        last = bisect_right(self.starts, end - 1) - 1
        if self.identity[first]:
            begin = self.origin[first][0] + start - self.starts[first]
        else:
            begin = self.origin[first][0]
        if self.identity[last]:
            finish = self.origin[last][0] + end - self.starts[last]
        else:
            finish = self.origin[last][1]
        return begin, finish


class _Builder:
    """Accumulates the view; consecutive separators collapse into one character."""

    def __init__(self, invisible_separates: bool) -> None:
        self.invisible_separates = invisible_separates
        self.had_invisible = False
        self.parts: list[str] = []
        self.length = 0
        self.starts: list[int] = []
        self.origin: list[tuple[int, int]] = []
        self.identity: list[bool] = []
        self.in_separator = False

    def copy(self, text: str, start: int) -> None:
        if text:
            self._segment(text, (start, start + len(text)), identity=True)

    def mapped(self, text: str, span: tuple[int, int]) -> None:
        if text:
            self._segment(text, span, identity=False)

    def separator(self, char: str, span: tuple[int, int]) -> None:
        if not self.in_separator:
            self._segment(char, span, identity=False)
            self.in_separator = True
            return
        self.origin[-1] = (self.origin[-1][0], span[1])
        last = self.parts[-1]
        if char == "\n" and last != "\n":
            self._replace_last("\n")  # a line break ends a name ("Dr A Example\nApologies: …")
        elif char == " " and last not in (" ", ". ", "\n"):
            # A full stop before white space ends a sentence: keep it, so that "Dr A Smith.
            # Patient …" is not read as one name; any other run with white space is a space.
            self._replace_last(". " if last == "." else " ")

    def _replace_last(self, text: str) -> None:
        self.length += len(text) - len(self.parts[-1])
        self.parts[-1] = text

    def _segment(self, text: str, span: tuple[int, int], identity: bool) -> None:
        self.starts.append(self.length)
        self.origin.append(span)
        self.identity.append(identity)
        self.parts.append(text)
        self.length += len(text)
        self.in_separator = False

    def view(self) -> View:
        parts = "".join(self.parts)
        return View(parts, tuple(self.starts), tuple(self.origin), tuple(self.identity), self.had_invisible)


def normalise(text: str, invisible_separates: bool = False) -> View:
    """The view of `text` that detection runs on (see the module docstring).

    An invisible character is dropped, which joins what it splits; with `invisible_separates`
    it is read as a separator instead. Between two groups of a number it was one ("280 797<ZWSP>
    6044" is 3-3-4), inside a group it was not ("0101<ZWSP>011237"): detection looks at both.
    """
    out = _Builder(invisible_separates)
    words = _Words()
    position = 0
    for match in _TOKEN.finditer(text):
        between = text[position : match.start()]
        if between or match.lastgroup not in ("enc", "gap"):
            words.flush(out)
            out.copy(between, position)
        if match.lastgroup == "enc" or (match.lastgroup == "gap" and words.decoded):
            words.add(match)  # adjacent encoded-words decode as one text
        else:
            _token(out, match)
        position = match.end()
    words.flush(out)
    out.copy(text[position:], position)
    return out.view()


class _Words:
    """Encoded-words in a row (with the whitespace between them, which RFC 2047 ignores)."""

    def __init__(self) -> None:
        self.decoded: list[str] = []
        self.span = (0, 0)

    def add(self, match: re.Match[str]) -> None:
        if match.lastgroup == "gap":
            return
        self.span = (self.span[0] if self.decoded else match.start(), match.end())
        self.decoded.append(_decode_word(match.group()))

    def flush(self, out: _Builder) -> None:
        if self.decoded:
            _decoded(out, "".join(self.decoded), self.span)
            self.decoded = []


def _token(out: _Builder, match: re.Match[str]) -> None:
    span = match.span()
    kind = match.lastgroup
    if kind == "quote":
        out.separator("\n", span)
    elif kind in ("tag", "etag"):
        out.separator(" ", span)
    elif kind == "sep":
        _characters(out, match.group(), span)
    elif kind == "ent":
        _characters(out, html.unescape(match.group()), span)
    elif kind == "enc":
        _decoded(out, _decode_word(match.group()), span)
    else:
        _characters(out, match.group(), span)


def _decoded(out: _Builder, text: str, span: tuple[int, int]) -> None:
    """An encoded-word's content, read like any text except that it is not decoded again;
    every character of it maps to the whole encoded-word."""
    position = 0
    for match in _TOKEN.finditer(text):
        _characters(out, text[position : match.start()], span)
        if match.lastgroup == "quote":
            out.separator("\n", span)
        elif match.lastgroup in ("tag", "etag"):
            out.separator(" ", span)
        elif match.lastgroup == "ent":
            _characters(out, html.unescape(match.group()), span)
        else:
            _characters(out, match.group(), span)
        position = match.end()
    _characters(out, text[position:], span)


def _characters(out: _Builder, text: str, span: tuple[int, int]) -> None:
    """Emit `text`, which all came from `span`, character by character."""
    for raw in text:
        for char in unicodedata.normalize("NFKC", raw) if not raw.isascii() else raw:
            if char in _SEPARATORS:
                out.separator(_canonical_separator(char), span)
            elif unicodedata.category(char) == "Cf":
                # invisible: zero-width space and joiners, word joiner, BOM, soft hyphen
                out.had_invisible = True
                if out.invisible_separates:
                    out.separator(" ", span)
            elif not char.isascii() and char.isdecimal():
                out.mapped(str(unicodedata.decimal(char)), span)
            elif not char.isascii() and char.isspace():
                out.separator(" ", span)
            else:
                out.mapped(char, span)


def _canonical_separator(char: str) -> str:
    if char in _DASHES:
        return "-"
    if char in "./":
        return char
    return "\n" if char in "\r\n\f\v" else " "


def _decode_word(word: str) -> str:
    """One RFC 2047 encoded-word decoded (only once: what it decodes to is not decoded again)."""
    try:
        chunks = decode_header(word)
    except (HeaderParseError, ValueError):
        return word
    pieces = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            pieces.append(chunk)
            continue
        try:
            pieces.append(chunk.decode(charset or "utf-8", errors="replace"))
        except LookupError:
            pieces.append(chunk.decode("utf-8", errors="replace"))
    return "".join(pieces)
