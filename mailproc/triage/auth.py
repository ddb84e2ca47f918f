"""Who may command: the allow-listed sender check and the receiving server's verdict.

Both checks are pure functions of values the parser already extracted; they fail closed:
anything unexpected (several From addresses, parse defects, a header we cannot read) is a
refusal, never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthDecision:
    """Whether a message may command, why, and (for the sender check) which administrator."""

    ok: bool
    reason: str
    admin: str | None


@dataclass(frozen=True)
class _Result:
    """One `method=result` clause of an Authentication-Results header with its properties."""

    method: str
    result: str
    props: dict[str, str]


_QUOTED = r'"(?:[^"\\]|\\.)*"'
_AUTHSERV_ID = re.compile(rf"\s*({_QUOTED}|[^\s\"]+)")
# key=value, where the key is a method (optionally /version), "reason", or ptype.property.
# A key starts only after whitespace: trying every position inside a long run of letters
# would make a hostile header cost quadratic time.
_PAIR = re.compile(rf'(?<!\S)([A-Za-z0-9][A-Za-z0-9._/-]*)\s*=\s*({_QUOTED}|[^\s";]+)')


def check_sender(from_addresses: Sequence[str], from_defects: bool, admins: Sequence[str]) -> AuthDecision:
    """Allow only a message with exactly one, cleanly parsed From address on the allow-list.

    Display names are never looked at: `"admin@board" <attacker@elsewhere>` is the
    attacker's address, and that is what the caller passes.
    """
    if from_defects:
        return AuthDecision(False, "the From header could not be parsed cleanly", None)
    if len(from_addresses) != 1:
        count = len(from_addresses)
        return AuthDecision(False, f"commands need exactly one From address, not {count}", None)
    address = from_addresses[0].strip().lower()
    allowed = {admin.strip().lower() for admin in admins}
    if not address or address not in allowed:
        return AuthDecision(False, f"{address or 'the sender'} is not an administrator", None)
    return AuthDecision(True, "ok", address)


def check_authentication_results(
    header_values: Sequence[str], authserv_id: str, sender_domain: str
) -> AuthDecision:
    """Judge the top-most Authentication-Results header written by our own server.

    `header_values` are in message order, top first. Headers from other authserv-ids are
    skipped: anyone upstream (the sender included) can write them. Passes on dmarc=pass for
    the sender's domain, or dkim=pass with a signing domain aligned to it; an explicit
    dmarc=fail for the sender's domain refuses even if DKIM seems to pass.
    """
    ours = _domain(authserv_id)
    sender = _domain(sender_domain)
    if not ours:
        return AuthDecision(False, "no authserv-id is configured to trust", None)
    if not sender:
        return AuthDecision(False, "the sender's domain is unknown", None)
    for value in header_values:
        parsed = _parse(value)
        if parsed is not None and _domain(parsed[0]) == ours:
            return _judge(parsed[1], sender)
    return AuthDecision(False, f"no Authentication-Results header from {ours}", None)


def _judge(results: list[_Result], sender: str) -> AuthDecision:
    dmarc = [r for r in results if r.method == "dmarc"]
    for result in dmarc:
        about = _domain(result.props.get("header.from", ""))
        # A failing DMARC verdict with no header.from is taken to be about this message.
        if result.result == "fail" and about in ("", sender):
            return AuthDecision(False, f"dmarc=fail for {sender}", None)
    if any(r.result == "pass" and _domain(r.props.get("header.from", "")) == sender for r in dmarc):
        return AuthDecision(True, f"dmarc=pass for {sender}", None)
    for result in results:
        signer = _dkim_domain(result)
        if result.method == "dkim" and result.result == "pass" and _aligned(signer, sender):
            return AuthDecision(True, f"dkim=pass for {signer}, aligned with {sender}", None)
    return AuthDecision(False, f"neither DMARC nor aligned DKIM passed for {sender}", None)


def _dkim_domain(result: _Result) -> str:
    if "header.d" in result.props:
        return _domain(result.props["header.d"])
    # header.i is an identity, "user@domain" or "@domain"; only its domain matters.
    return _domain(result.props.get("header.i", "").rpartition("@")[2])


def _aligned(signer: str, sender: str) -> bool:
    """Relaxed alignment, approximated without the Public Suffix List.

    Equal, or one a subdomain of the other; the shorter must have at least two labels so
    that a signature for a bare top-level domain never aligns.
    """
    if not signer:
        return False
    if signer == sender:
        return True
    shorter, longer = sorted((signer, sender), key=len)
    return shorter.count(".") >= 1 and longer.endswith("." + shorter)


def _domain(value: str) -> str:
    return value.strip().strip('"').rstrip(".").lower()


def _parse(value: str) -> tuple[str, list[_Result]] | None:
    """RFC 8601: `authserv-id [version] ; method=result reason=... ptype.prop=value ; ...`."""
    unfolded = re.sub(r"\r?\n[ \t]*", " ", str(value))
    segments = _split_unquoted(_strip_comments(unfolded), ";")
    head = _AUTHSERV_ID.match(segments[0])
    if head is None:
        return None
    return _unquote(head[1]), [r for r in map(_result, segments[1:]) if r is not None]


def _result(segment: str) -> _Result | None:
    pairs = [(key.lower(), _unquote(val)) for key, val in _PAIR.findall(segment)]
    # "none" (no checks were run) and unreadable clauses carry no verdict.
    if not pairs or "." in pairs[0][0]:
        return None
    method, result = pairs[0]
    props: dict[str, str] = {}
    for key, val in pairs[1:]:
        props.setdefault(key, val)  # a repeated property must not override the first
    return _Result(method.split("/")[0], result.lower(), props)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _strip_comments(value: str) -> str:
    """Drop (nested) comments outside quoted strings; an unclosed comment runs to the end."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
            out.append(" " if depth == 1 else "")
        elif depth:
            if char == ")":
                depth -= 1
        else:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _split_unquoted(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
