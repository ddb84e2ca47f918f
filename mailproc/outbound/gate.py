"""Every email mailproc sends is queued here: render, redact, compose, enqueue.

This is the one gate outgoing mail passes, so the privacy redaction (subject, Thread-Topic,
text and HTML) cannot be skipped by a caller, and an Outgoing marked `rate_limited` always
meets the per-address daily limit on automatic replies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.outbound import outbox
from mailproc.outbound.compose import Envelope, compose, thread_index
from mailproc.outbound.render import Rendered
from mailproc.privacy import detector
from mailproc.store.models import Issue, OutboxMessage
from mailproc.vocabulary import make_message_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """What to send, to whom, and what makes its Message-ID unique."""

    template: str
    to: tuple[str, ...]
    purpose: str  # ack, triage, triage-update, confirm, reject, info, decline, ...
    unique: str  # e.g. the inbound Message-ID that caused it
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto: str = "auto-generated"
    # Automatic replies to inbound mail (acknowledgements) count against the per-address
    # daily limit, the backstop against loops with outside auto-responders. Mail that a
    # person caused (INFO, outcomes) is never limited: it must not be dropped silently.
    rate_limited: bool = False


def base_context(app: App) -> dict[str, Any]:
    s = app.settings
    return {"group": s.group, "members": s.members}


def send(
    session: Session, app: App, issue: Issue | None, out: Outgoing, context: Mapping[str, Any]
) -> OutboxMessage | None:
    """Queue one templated email in the caller's transaction; None if not queued."""
    recipients = _within_limits(session, app, out) if out.rate_limited else _deduplicated(app, out.to)
    if not recipients:
        return None
    rendered = app.renderer.render(out.template, {**base_context(app), "issue": issue, **context})
    topic = issue.subject if issue else None
    if _must_redact(app, recipients):
        rendered = redact_rendered(app, rendered)
        topic = detector.redact(topic, app.settings.privacy.patterns) if topic else None
    reference = issue.reference if issue else None
    message_id = make_message_id(reference, out.purpose, out.unique, app.domain)
    envelope = Envelope(
        to=recipients,
        in_reply_to=out.in_reply_to,
        references=out.references,
        auto=out.auto,
        thread_topic=topic,  # Outlook shows it: it passes the same redaction as the subject
        # One Thread-Index per issue, so Outlook shows every email about it as one thread.
        thread_index=thread_index(issue.reference, issue.created_at) if issue else None,
    )
    group = app.settings.group
    message = compose(rendered, envelope, group.name, group.address, message_id, app.clock())
    return outbox.enqueue(
        session,
        issue_id=issue.id if issue else None,
        template=out.template,
        message=message,
        recipients=recipients,
        now=app.clock(),
    )


def redact_rendered(app: App, rendered: Rendered) -> Rendered:
    patterns = app.settings.privacy.patterns
    return Rendered(
        subject=detector.redact(rendered.subject, patterns),
        text=detector.redact(rendered.text, patterns),
        html=detector.redact(rendered.html, patterns),
    )


def _must_redact(app: App, recipients: tuple[str, ...]) -> bool:
    admins = set(app.settings.triage.admins)
    only_admins = all(r in admins for r in recipients)
    return not only_admins or app.settings.privacy.redact_for_admins


def _deduplicated(app: App, to: tuple[str, ...]) -> tuple[str, ...]:
    """Each address once, never our own (it would come back as a new submission)."""
    return tuple(a for a in dict.fromkeys(x.lower() for x in to) if a != app.settings.group.address)


def _within_limits(session: Session, app: App, out: Outgoing) -> tuple[str, ...]:
    """Drop addresses that already had their day's share of automatic replies.

    Administrators and configured lists are exempt: the limit is a backstop against
    mail loops with outside auto-responders, not a cap on the group's own work.
    """
    s = app.settings
    exempt = set(s.triage.admins) | {a for lst in s.lists.values() for a in lst.addresses}
    since = app.clock() - timedelta(days=1)
    limit = s.outbound.auto_per_address_per_day
    kept = []
    for address in _deduplicated(app, out.to):
        sent = outbox.automatic_sent_to(session, address, since, templates=(out.template,))
        if address in exempt or sent < limit:
            kept.append(address)
        else:
            log.warning("daily limit of %d automatic replies reached for one address; not sent", limit)
    return tuple(kept)
