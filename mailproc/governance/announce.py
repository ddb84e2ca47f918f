"""`mailproc announce`: the awareness email, one message per recipient, through the send gate."""

from __future__ import annotations

from dataclasses import dataclass

from mailproc.app import App
from mailproc.outbound import catalogue, gate
from mailproc.outbound.render import Rendered
from mailproc.store.db import transaction


@dataclass(frozen=True)
class Announced:
    """What `queue_announcement` did: queued now, or already queued by an earlier run."""

    recipients: tuple[str, ...]
    queued: int
    unchanged: int

    def line(self) -> str:
        return (
            f"announcement: {self.queued} queued, {self.unchanged} already sent earlier, "
            f"{len(self.recipients)} address(es) in all"
        )


def recipients(app: App) -> tuple[str, ...]:
    """Every address on `distribution.announcements` and the networks, each once."""
    return catalogue.announcement_recipients(app.settings)


def preview(app: App) -> Rendered:
    """The email as it will read (the same for every recipient)."""
    about = catalogue.awareness(app.settings)
    email = catalogue.announcement(catalogue.group_view(app.settings), about, "preview@invalid")
    rendered = app.renderer.render(email.template, email.context)
    return gate.redact_rendered(app, rendered, gate.public_phrases(app, email))


def queue_announcement(app: App) -> Announced:
    """Queue the awareness email to every recipient not yet sent it, in one transaction."""
    to = recipients(app)
    about = catalogue.awareness(app.settings)
    group = catalogue.group_view(app.settings)
    queued = unchanged = 0
    with transaction(app.factory) as session:
        for address in to:
            result = gate.send(session, app, catalogue.announcement(group, about, address))
            if result.queued:
                queued += 1
            elif result.withheld == gate.Withheld.ALREADY_QUEUED:
                unchanged += 1
    return Announced(recipients=to, queued=queued, unchanged=unchanged)
