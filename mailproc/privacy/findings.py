"""Patient-identifiable data at intake: find it in each part of a message and record where.

Findings keep kind and position only; the number itself is never copied or logged.
"""

from __future__ import annotations

import logging

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
    for part, text in parts:
        for finding in detector.find_pid(text, extra):
            session.add(
                PidFinding(
                    message_id=row.id, part=part, kind=finding.kind,
                    start=finding.start, end=finding.end,
                )
            )  # fmt: skip
            count += 1
    row.redacted_text = detector.redact(row.visible_text or msg.text, extra)
    row.detail = {**row.detail, "pid_findings": count}
    if count:
        log.info("message %s: %d possible patient identifier(s) found", row.id, count)
    return count
