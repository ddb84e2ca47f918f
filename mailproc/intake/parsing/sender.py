"""The sender, read strictly: an acknowledgement goes to `from_address`, so it must be certain.

Python before 3.11.10 / 3.12.6 has no `strict` mode in `email.utils.getaddresses`, and its
legacy parser can read `alice@example.org)<bob@example.com>` as alice (CVE-2023-27043).
So a From value must pass a bracket/quote balance check, and the modern RFC 5322 parser
(`email.headerregistry`) and the legacy parser must agree on the addresses; where the
legacy parser has `strict`, that must accept it too.
"""

from __future__ import annotations

import email.utils
import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy

from mailproc.intake.parsing.fields import decode_words
from mailproc.outbound.headers import safe_address

_HAS_STRICT = "strict" in inspect.signature(email.utils.getaddresses).parameters
# Longer From values are refused rather than handed to a parser with quadratic corners.
_MAX_FROM = 4096
# Only From values up to this many characters are remembered: hostile mail cannot fill
# memory with cached values.
_CACHED_UP_TO = 1024
_MAX_ADDRESS = 254  # RFC 5321: the longest path a server must accept
# Defects that concern only the display name or obsolete-but-legal syntax (RFC 5322 section 4
# obliges readers to accept `Joe Q. Public <...>`); what matters for the address is checked
# by comparing the two parsers. Matched on the defect's class, or its text for the many
# encoded-word complaints that share InvalidHeaderDefect.
_HARMLESS_DEFECTS = frozenset(
    {
        "ObsoleteHeaderDefect",
        "InvalidBase64PaddingDefect",
        "InvalidBase64CharactersDefect",
        "InvalidBase64LengthDefect",
        "CharsetError",
        "UndecodableBytesDefect",
    }
)
_HARMLESS_TEXT = ("encoded word", "encoded-word")


@dataclass(frozen=True)
class Sender:
    """What the From header(s) said: one trusted address, or the evidence why not."""

    address: str  # "" unless exactly one clean address
    name: str
    seen: tuple[str, ...]
    defective: bool


def read_sender(values: Sequence[str]) -> Sender:
    """Read the unfolded raw values of every From header strictly.

    Zero or several From headers, zero or several addresses, or any syntax defect make the
    sender untrusted: `address` is "" and `seen` lists what was found. The same senders
    write again and again: a short From is read by the two parsers once per process.
    """
    key = tuple(values)
    if sum(map(len, key)) <= _CACHED_UP_TO:
        return _read_once(key)
    return _read(key)


@functools.lru_cache(maxsize=2048)
def _read_once(values: tuple[str, ...]) -> Sender:
    return _read(values)


def _read(values: tuple[str, ...]) -> Sender:
    defective = len(values) != 1
    seen: list[str] = []
    names: list[str] = []
    for value in values:
        pairs, bad = _strict_pairs(value)
        defective = defective or bad
        seen.extend(addr for _, addr in pairs)
        names.extend(name for name, _ in pairs)
    seen = [addr.strip().lower() for addr in seen if addr.strip()]
    unique = tuple(dict.fromkeys(seen))
    if len(seen) != 1 or not _plain_addr_spec(seen[0]):
        defective = True
    name = names[0] if len(names) == 1 else ""
    return Sender(address="" if defective else seen[0], name=name, seen=unique, defective=defective)


def _strict_pairs(value: str) -> tuple[list[tuple[str, str]], bool]:
    """(display name, address) pairs and whether anything about the syntax was wrong."""
    if len(value) > _MAX_FROM:
        return [], True
    lenient = _legacy_pairs(value)
    modern, bad = _modern_pairs(value)
    if _HAS_STRICT:  # newer Pythons: the legacy parser's own strict mode has a say too
        strict = email.utils.getaddresses([value], strict=True)  # type: ignore[call-arg,unused-ignore]
        bad = bad or strict == [("", "")]
    known = [a.lower() for _, a in modern]
    if known == [a.lower() for _, a in lenient]:
        return modern, bad or not balanced(value)
    # The parsers disagree: report every address either of them saw.
    return modern + [p for p in lenient if p[1].lower() not in known], True


def _legacy_pairs(value: str) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses([value])
    except (TypeError, ValueError, IndexError):
        return []
    return [(decode_words(n), a) for n, a in pairs if n or a]


def _modern_pairs(value: str) -> tuple[list[tuple[str, str]], bool]:
    try:
        header = policy.default.header_factory("from", value)
        addresses = header.addresses
        pairs = [(str(a.display_name), str(a.addr_spec)) for a in addresses]
    except Exception:  # the modern parser has raised odd errors on hostile input
        return [], True
    return pairs, any(_harmful(d) for d in header.defects)


def _harmful(defect: Exception) -> bool:
    if type(defect).__name__ in _HARMLESS_DEFECTS:
        return False
    return not any(text in str(defect) for text in _HARMLESS_TEXT)


def balanced(value: str) -> bool:
    """Whether quotes, comments and angle brackets in an address header are balanced."""
    in_quote = False
    comment_depth = 0
    angle_depth = 0
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and (in_quote or comment_depth):
            escaped = True
        elif in_quote:
            in_quote = ch != '"'
        elif ch == "(":
            comment_depth += 1
        elif ch == ")":
            comment_depth -= 1
            if comment_depth < 0:
                return False
        elif comment_depth:
            continue
        elif ch == '"':
            in_quote = True
        elif ch in "<>":
            angle_depth += 1 if ch == "<" else -1
            if angle_depth not in (0, 1):
                return False
    return not (in_quote or comment_depth or angle_depth or escaped)


def _plain_addr_spec(addr: str) -> bool:
    """Exactly one @ with something either side and no whitespace or control characters."""
    local, at, domain = addr.rpartition("@")
    if len(addr) > _MAX_ADDRESS or not at or not local or not domain or "@" in local.strip('"'):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ch in "<>()," for ch in addr):
        return False
    # Trusted means we can answer it: the outgoing side must accept the very same address,
    # or an acknowledgement would fail the whole transaction and the submission with it.
    try:
        safe_address(addr)
    except ValueError:
        return False
    return True
