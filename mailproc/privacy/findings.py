"""Patient-identifiable data at intake: find it in each part of a message and record where.

Findings keep kind and position only; the number itself is never copied or logged.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.intake.inbound import Inbound
from mailproc.privacy import detector
from mailproc.store.models import Message, PidFinding

log = logging.getLogger(__name__)


def scan_message(app: App, session: Session, row: Message, msg: Inbound) -> int:
    """Record findings for subject, text and attachment names; store the redacted text."""
    extra = app.settings.privacy.patterns
    parts = [("subject", msg.subject), ("text", msg.text)]
    parts += [(f"attachment:{i}", a.filename) for i, a in enumerate(msg.attachments)]
    count = 0
    sender = _words(msg.from_name)
    for part, text in parts:
        for finding in detector.find_pid(text, extra):
            if finding.kind == detector.KIND_NAME and _is_sender(text[finding.start : finding.end], sender):
                continue  # the sender signing "Dr Jane Smith" names no patient
            session.add(
                PidFinding(
                    message_id=row.id, part=part, kind=finding.kind,
                    start=finding.start, end=finding.end,
                )
            )  # fmt: skip
            count += 1
    source = row.visible_text or msg.text
    redacted = detector.redact(source, extra)
    # Kept only where it differs: most mail names no patient, and a second copy of its text
    # in every row is dead weight. Purge, the one reader, redacts that text again instead.
    row.redacted_text = redacted if redacted != source else ""
    if count:  # absent means none (read with .get("pid_findings", 0))
        row.detail = {**row.detail, "pid_findings": count}
    if count:
        log.info("message %s: %d possible patient identifier(s) found", row.id, count)
    return count


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _is_sender(name: str, sender: list[str]) -> bool:
    """Whether every word of `name` is a word (or an initial) of the sender's display name."""
    words = _words(name)
    return bool(words and sender) and all(
        word in sender or (len(word) == 1 and any(s.startswith(word) for s in sender)) for word in words
    )
