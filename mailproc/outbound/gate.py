"""Every email mailproc sends is queued here: dedupe, limit, render, redact, enqueue.

This is the one gate outgoing mail passes, so the privacy redaction (subject, Thread-Topic,
text and HTML) cannot be skipped by a caller, our own address is never written to, and an
Email marked `rate_limited` always meets the per-address daily limit on automatic replies.
The emails themselves come from the catalogue (`mailproc.outbound.catalogue`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.outbound import outbox
from mailproc.outbound.catalogue import Email
from mailproc.outbound.compose import Envelope, thread_index
from mailproc.outbound.headers import safe_header
from mailproc.outbound.render import Rendered
from mailproc.outbound.stored import Outgoing
from mailproc.privacy import detector, public
from mailproc.store.models import OutboxMessage
from mailproc.vocabulary import make_message_id

log = logging.getLogger(__name__)


class Withheld(StrEnum):
    """Why the gate queued nothing; the text is what an event or a log line says."""

    NO_RECIPIENTS = "no recipient address"
    OWN_ADDRESS = "no recipient left once the group's own address is removed"
    # Automatic replies to inbound mail (acknowledgements) count against the per-address
    # daily limit, the backstop against loops with outside auto-responders. Mail that a
    # person caused (INFO, outcomes) is never limited: it must not be dropped silently.
    DAILY_LIMIT = "daily limit of automatic replies reached for every recipient"
    ALREADY_QUEUED = "already in the outbox (same Message-ID)"


@dataclass(frozen=True)
class SendResult:
    """Queued (with its outbox row's id), or why not."""

    outbox_id: int | None = None
    withheld: Withheld | None = None
    due_at: datetime | None = None  # when delivery may start (later than now for held mail)

    @property
    def queued(self) -> bool:
        return self.outbox_id is not None

    @property
    def reason(self) -> str:
        """Why nothing was queued; "" when it was."""
        return str(self.withheld) if self.withheld else ""


def send(session: Session, app: App, email: Email) -> SendResult:
    """Queue one email from the catalogue in the caller's transaction, or say why not."""
    issue = email.issue
    message_id = make_message_id(issue.reference if issue else None, email.purpose, email.unique, app.domain)
    recipients, withheld = _recipients(session, app, email, message_id)
    if withheld:
        log.info("%s not queued: %s", email.template, withheld)
        return SendResult(withheld=withheld)
    rendered = app.renderer.render(email.template, email.context)
    topic = _topic(app, email, recipients)
    # Decode and strip the topic first, then redact: compose() decodes what it is given,
    # so a topic redacted before decoding could carry a number the Subject does not.
    # Not cut yet (compose() cuts it): a cut could leave half a number the detector misses.
    topic = safe_header(topic, max(1, len(topic))) if topic else None
    if _must_redact(app, recipients):
        rendered = redact_rendered(app, rendered, public_phrases(app, email))
        topic = detector.redact(topic, app.settings.privacy.patterns) if topic else None
    envelope = Envelope(
        to=recipients,
        in_reply_to=email.in_reply_to,
        references=email.references,
        auto=email.auto,
        thread_topic=topic,  # Outlook shows it: it passes the same redaction as the subject
        # One Thread-Index per issue, so Outlook shows every email about it as one thread.
        thread_index=thread_index(issue.reference, issue.created_at) if issue else None,
        list_id=email.list_id or None,
    )
    group = app.settings.group
    now = app.clock()
    # Rendered and redacted here, so that nothing unredacted is stored; composed into MIME
    # at delivery, out of this transaction, from exactly these values (`stored`).
    message = Outgoing(rendered, envelope, group.name, group.address, message_id, now, email.calendar)
    due = now + timedelta(minutes=app.settings.outbound.list_hold_minutes) if email.held else now
    row = outbox.enqueue(
        session,
        issue_id=issue.id if issue else None,
        template=email.template,
        message=message,
        recipients=recipients,
        now=now,
        not_before=due,
    )
    return SendResult(outbox_id=row.id, due_at=due) if row else SendResult(withheld=Withheld.ALREADY_QUEUED)


def redact_rendered(app: App, rendered: Rendered, keep: tuple[str, ...] = ()) -> Rendered:
    """Every part redacted; the public names in `keep` (see `public_phrases`) stay."""
    patterns = app.settings.privacy.patterns
    return Rendered(
        subject=detector.redact(rendered.subject, patterns, keep=keep),
        text=detector.redact(rendered.text, patterns, keep=keep),
        html=detector.redact(rendered.html, patterns, keep=keep),
    )


def public_phrases(app: App, email: Email | None = None) -> tuple[str, ...]:
    """The group's members as configured, and the people an email lists as a meeting's
    attendees or apologies: their names are not patient data."""
    context = email.context if email else {}
    return public.public_phrases((m.name for m in app.settings.members), context)


def _topic(app: App, email: Email, recipients: tuple[str, ...]) -> str | None:
    """Outlook's Thread-Topic: the submitter's subject only to the submitter, the working title
    to administrators, and to anyone else the title an administrator chose."""
    issue = email.issue
    if issue is None:
        return None
    if recipients == (issue.submitter_email.lower(),):
        return issue.subject
    admins = set(app.settings.triage.admins)
    return issue.working_title if all(r in admins for r in recipients) else issue.shared_title


def _must_redact(app: App, recipients: tuple[str, ...]) -> bool:
    admins = set(app.settings.triage.admins)
    only_admins = all(r in admins for r in recipients)
    return not only_admins or app.settings.privacy.redact_for_admins


def _recipients(
    session: Session, app: App, email: Email, message_id: str
) -> tuple[tuple[str, ...], Withheld | None]:
    """Who may get `email` (each address once, never our own, within the daily limit), or
    why no one may."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id)) is not None:
        return (), Withheld.ALREADY_QUEUED  # Message-IDs are deterministic: a replay, or a second call
    if not email.to:
        return (), Withheld.NO_RECIPIENTS
    ours = app.settings.group.address.lower()
    # Our own address would bring the email back as a new submission.
    recipients = tuple(a for a in dict.fromkeys(x.strip().lower() for x in email.to) if a != ours)
    if not recipients:
        return (), Withheld.OWN_ADDRESS
    if email.rate_limited:
        recipients = _within_limits(session, app, email.template, recipients)
        if not recipients:
            return (), Withheld.DAILY_LIMIT
    return recipients, None


def _within_limits(session: Session, app: App, template: str, addresses: tuple[str, ...]) -> tuple[str, ...]:
    """Drop addresses that already had their day's share of automatic replies.

    Administrators and configured lists are exempt: the limit is a backstop against
    mail loops with outside auto-responders, not a cap on the group's own work.
    """
    s = app.settings
    exempt = set(s.triage.admins) | {a for lst in s.lists.values() for a in lst.addresses}
    since = app.clock() - timedelta(days=1)
    limit = s.outbound.auto_per_address_per_day
    kept = []
    for address in addresses:
        # An exempt address is kept without counting: administrators get every triage
        # request, and a count of their mail is a query per message that decides nothing.
        if (
            address in exempt
            or outbox.automatic_sent_to(session, address, since, templates=(template,)) < limit
        ):
            kept.append(address)
        else:
            log.warning("daily limit of %d automatic replies reached for one address; not sent", limit)
    return tuple(kept)
