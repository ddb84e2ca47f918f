"""IMAP IDLE (RFC 2177) that survives responses split across packets.

imapclient's idle_check() reads lines from a non-blocking socket and fails on a response
split across packets (imapclient issue #519). So we only watch the socket for readability
and let idle_done() read the responses in blocking mode; after a mere keep-alive
("* OK Still here") we IDLE again. A dropped connection makes idle_done() raise.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import time
from typing import Any

from imapclient import IMAPClient

NEW_MAIL = frozenset({b"EXISTS", b"RECENT"})


def idle_until(client: IMAPClient, deadline: float) -> set[bytes | None]:
    """IDLE until the server says something that matters or the deadline (monotonic) passes;
    returns the kinds of untagged response seen (EXISTS, RECENT, BYE, ...)."""
    kinds: set[bytes | None] = set()
    while True:
        client.idle()
        spoke = False
        try:
            remaining = deadline - time.monotonic()
            spoke = remaining > 0 and _readable(client.socket(), remaining)
        finally:
            # Also when a signal handler interrupts the wait: leave IDLE properly, so
            # the connection can still be logged out cleanly.
            kinds |= {_response_kind(r) for r in client.idle_done()[1]}
        if not spoke or kinds & (NEW_MAIL | {b"BYE"}):
            return kinds


def _response_kind(response: Any) -> bytes | None:
    """The keyword of a parsed untagged response: (3, b'EXISTS') → EXISTS, (b'BYE', b'..') → BYE."""
    words = [w for w in response[:2] if isinstance(w, bytes)] if isinstance(response, tuple) else []
    return words[0].upper() if words else None


def _readable(sock: socket.socket, timeout: float) -> bool:
    """Whether the server sent something (or closed) within `timeout` seconds."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # already decrypted, waiting in the TLS layer: select() cannot see it
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout))
