"""Several messages per database transaction: the chunks of a pass (flow.py has the steps).

A chunk is up to `intake.batch_size` messages (and about CHUNK_BYTES of mail, so that memory
stays bounded when the mail is large). Its attempts are counted in one commit, then all of it
is processed in one transaction with a savepoint per message (flow.in_one_transaction).

A chunk that holds a message tried before goes one message per transaction instead, counting
each attempt just before its own try: after a crash in the middle of a chunk, the message
that killed the process is then counted alone, and past `intake.max_attempts` quarantined,
while its neighbours, counted only when tried, go through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

from mailproc.app import App
from mailproc.errors import StorageUnavailable
from mailproc.intake import flow
from mailproc.intake.flow import Outcome, PassOptions
from mailproc.intake.sources import SourceMessage
from mailproc.store import attempts
from mailproc.store.db import transaction

log = logging.getLogger(__name__)

CHUNK_BYTES = 8 * 1024 * 1024  # a chunk closes once it holds this much mail

Settled = tuple[SourceMessage, Outcome | None]  # a message and its committed outcome (None: failed)


def chunks(
    items: Iterable[SourceMessage], size: int, max_bytes: int = CHUNK_BYTES
) -> Iterator[list[SourceMessage]]:
    """`items` in lists of at most `size` messages and about `max_bytes` of mail (at least one)."""
    chunk: list[SourceMessage] = []
    held = 0
    for item in items:
        chunk.append(item)
        held += len(item.raw)
        if len(chunk) >= max(1, size) or held >= max_bytes:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def handle_chunk(app: App, chunk: Sequence[SourceMessage], options: PassOptions) -> Iterator[Settled]:
    """Each message of `chunk` with its outcome, once that outcome is committed (all at once
    for a chunk in one transaction; one by one for a chunk being retried)."""
    tries = _count_if_fresh(app, chunk) if len(chunk) > 1 else None
    if tries is None:
        for item in chunk:
            yield item, flow.handle(app, item, options)
        return
    yield from zip(chunk, flow.in_one_transaction(app, chunk, options, tries), strict=True)


class _TriedBefore(Exception):
    """Rolls back the counting of a chunk in which a message was tried before."""


def _count_if_fresh(app: App, chunk: Sequence[SourceMessage]) -> dict[str, int] | None:
    """Count one attempt at every message in one commit, unless one was tried before: then
    count none (None), and the caller takes them one at a time."""
    try:
        with transaction(app.factory) as session:
            tries = attempts.bump_attempts(session, [item.key for item in chunk], app.clock())
            if max(tries.values()) > 1:
                raise _TriedBefore
    except _TriedBefore:
        log.info("messages from %s on were tried before: one per transaction", chunk[0].key)
        return None
    except flow.STORAGE_ERRORS as exc:
        raise StorageUnavailable(flow.storage_reason(exc)) from exc
    return tries
