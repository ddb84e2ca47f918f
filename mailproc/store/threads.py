"""Thread lookup: which issue an inbound message belongs to, answered from the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.store.models import Issue, Message, OutboxMessage
from mailproc.vocabulary import parse_our_message_id, token_in_message_id


class DbThreadLookup:
    """Answers classify's questions about threads from the database."""

    def __init__(self, session: Session, domain: str) -> None:
        self.session = session
        self.domain = domain

    def issue_for_reference(self, reference: str) -> str | None:
        return self.session.scalar(select(Issue.reference).where(Issue.reference == reference))

    def issue_for_message_ids(self, ids: Sequence[str]) -> str | None:
        for mid in reversed(ids):  # the nearest ancestor is last in References
            ref = self._reference_of(mid)
            if ref:
                return ref
        return None

    def is_own_message_id(self, message_id: str) -> bool:
        return parse_our_message_id(message_id, self.domain) is not None

    def is_triage_message_id(self, message_ids: Sequence[str]) -> str | None:
        for mid in message_ids:
            # Every email that carries an administrator's token (triage request, update,
            # confirmation, error) says so in its Message-ID.
            found = token_in_message_id(mid, self.domain)
            if found:
                return self.issue_for_reference(found[0])
        return None

    def _reference_of(self, mid: str) -> str | None:
        ours = parse_our_message_id(mid, self.domain)
        if ours and ours.reference:
            return self.issue_for_reference(ours.reference)
        stmt = (
            select(Issue.reference)
            .join(OutboxMessage, OutboxMessage.issue_id == Issue.id)
            .where(OutboxMessage.message_id == mid)
        )
        ref = self.session.scalar(stmt)
        if ref:
            return ref
        stmt = select(Issue.reference).join(Message, Message.issue_id == Issue.id)
        return self.session.scalar(stmt.where(Message.message_id == mid).limit(1))
