"""The schema, as SQLAlchemy 2 typed models. Changes go through an Alembic migration.

Timestamps that are compared later (due times, retention, rate limits) have no default: the
code that writes a row passes the time of the injected clock (`App.clock`), so a forgotten one
fails loudly instead of silently taking the wall clock's time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from mailproc.vocabulary import (
    DeliveryState,
    IssueStatus,
    MeetingItemKind,
    MeetingStatus,
    MessageKind,
    QuarantineState,
    RecipientState,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def state_column(kind: type[StrEnum], name: str, length: int) -> Enum:
    """A `StrEnum` stored as its values in a plain string column with a CHECK constraint (a
    "non-native" enum): the same on SQLite and PostgreSQL, and new states need no type change."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Issue(Base):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    # Indexed with id (ix_issues_status_id, below): the newest open issues are read by status.
    status: Mapped[IssueStatus] = mapped_column(state_column(IssueStatus, "issue_status", 32))
    subject: Mapped[str] = mapped_column(Text)
    submitter_email: Mapped[str] = mapped_column(String(320), index=True)
    submitter_name: Mapped[str] = mapped_column(Text, default="")
    suggested_area: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64))
    source_kind: Mapped[str] = mapped_column(String(32), default="clinician")
    priority: Mapped[str] = mapped_column(String(16), default="medium")
    outcome: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    delegated_to: Mapped[str | None] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    pid_detected: Mapped[bool] = mapped_column(Boolean, default=False)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The administrator's words for the issue (TITLE), and what the register shows (PUBLISH):
    # the submitter's subject stays in `subject` and is never published.
    title: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list[Message]] = relationship(back_populates="issue", order_by="Message.id")
    events: Mapped[list[Event]] = relationship(back_populates="issue", order_by="Event.id")

    __table_args__ = (UniqueConstraint("year", "seq", name="uq_issues_year_seq"),)


class ReferenceCounter(Base):
    """Last sequence number used per year: incremented inside the issue's transaction,
    so a rolled-back submission leaves no gap and two pollers never share a number."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One inbound email, with its raw bytes (None once purged)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Looked up through the unique (message_id, sha256) index, whose first column it is.
    message_id: Mapped[str] = mapped_column(String(998))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[MessageKind] = mapped_column(state_column(MessageKind, "message_kind", 32))
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    visible_text: Mapped[str] = mapped_column(Text, default="")
    redacted_text: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    issue: Mapped[Issue | None] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")

    __table_args__ = (UniqueConstraint("message_id", "sha256", name="uq_messages_msgid_sha"),)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(Text)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)

    message: Mapped[Message] = relationship(back_populates="attachments")


class Event(Base):
    """The audit trail: who did what to an issue, when and how."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(320))
    via: Mapped[str] = mapped_column(String(998))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)

    issue: Mapped[Issue | None] = relationship(back_populates="events")


class SourceCursor(Base):
    """Where a mailbox source has got to; a UIDVALIDITY change restarts the scan."""

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # shown, never compared


class SourceAttempt(Base):
    """Attempts to process one source message, committed before each try so that a
    message that crashes the process is counted too and quarantined after N tries."""

    __tablename__ = "source_attempts"

    source_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Quarantined(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[QuarantineState] = mapped_column(
        state_column(QuarantineState, "quarantine_state", 16), default=QuarantineState.HELD
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A rendered email waiting for, or done with, delivery (transactional outbox)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    # The redacted parts, envelope and Date the message is composed from at delivery
    # (mailproc.outbound.stored); rows queued before 0007 keep their bytes in `raw` instead.
    # Both NULL once `purge` has removed the body of a message done with.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[DeliveryState] = mapped_column(
        state_column(DeliveryState, "delivery_state", 16), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipients: Mapped[list[OutboxRecipient]] = relationship(
        back_populates="message", order_by="OutboxRecipient.id"
    )


class OutboxRecipient(Base):
    """Per-recipient delivery state, so that only refused recipients are retried."""

    __tablename__ = "outbox_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    state: Mapped[RecipientState] = mapped_column(state_column(RecipientState, "recipient_state", 16))
    last_reply: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[OutboxMessage] = relationship(back_populates="recipients")


class Meeting(Base):
    """A themed meeting of the group; (date, theme) tells apart several on one day.

    `sequence` is the iCalendar SEQUENCE: bumped when what a calendar shows changes (date,
    time, length, location, title) or on cancelling. `invited_at` is set once an agenda with
    its invitation was queued, so that a cancellation knows it must be sent too.
    """

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    theme: Mapped[str] = mapped_column(String(64), default="")
    time: Mapped[time] = mapped_column(Time)
    title: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(Text, default="")
    length_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[MeetingStatus] = mapped_column(
        state_column(MeetingStatus, "meeting_status", 16), default=MeetingStatus.PLANNED
    )
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # From the decisions reply (ATTENDEES:, APOLOGIES:): names as the administrator wrote them.
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    apologies: Mapped[list[str]] = mapped_column(JSON, default=list)

    items: Mapped[list[MeetingItem]] = relationship(
        back_populates="meeting", order_by="MeetingItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("date", "theme", name="uq_meetings_date_theme"),)


class MeetingItem(Base):
    """One agenda item: a scheduled issue or a titled item. `discussion` and `decision` are
    filled from the administrator's reply after the meeting."""

    __tablename__ = "meeting_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MeetingItemKind] = mapped_column(state_column(MeetingItemKind, "meeting_item_kind", 16))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    discussion: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    action_owner: Mapped[str | None] = mapped_column(Text)  # the delegated group's name
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    issue: Mapped[Issue | None] = relationship()

    __table_args__ = (UniqueConstraint("meeting_id", "position", name="uq_meeting_items_meeting_position"),)


class Minutes(Base):
    """One version of a meeting's minutes as sent: `content` is the labelled lines the next
    version is compared with, so that "Corrected minutes" can say what changed."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("meeting_id", "version", name="uq_minutes_meeting_version"),)


class PidFinding(Base):
    """Where patient-identifiable data was seen: kind and position, never the value."""

    __tablename__ = "pid_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    part: Mapped[str] = mapped_column(String(64))  # "subject", "text", "attachment:<name>"
    kind: Mapped[str] = mapped_column(String(32))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)


Index("ix_outbox_due", OutboxMessage.state, OutboxMessage.next_attempt_at)
Index("ix_issues_status_id", Issue.status, Issue.id)
# The flood cap counts one sender's messages of the last day, for every new message.
Index("ix_messages_from_received", Message.from_address, Message.received_at)
