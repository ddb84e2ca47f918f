"""minutes: versioned minutes per meeting; attendees and apologies; item action owner and due date

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Existing meetings get empty attendee and apology lists; existing items no action owner.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(sa.Column("attendees", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("apologies", sa.JSON(), nullable=True))
    meetings = sa.table("meetings", sa.column("attendees", sa.JSON()), sa.column("apologies", sa.JSON()))
    op.execute(meetings.update().values(attendees=[], apologies=[]))
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.alter_column("attendees", nullable=False)
        batch_op.alter_column("apologies", nullable=False)
    with op.batch_alter_table("meeting_items") as batch_op:
        batch_op.add_column(sa.Column("action_owner", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("due_date", sa.Date(), nullable=True))
    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_minutes_meeting_id_meetings"),
        sa.PrimaryKeyConstraint("id", name="pk_minutes"),
        sa.UniqueConstraint("meeting_id", "version", name="uq_minutes_meeting_version"),
    )
    op.create_index("ix_minutes_meeting_id", "minutes", ["meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_minutes_meeting_id", table_name="minutes")
    op.drop_table("minutes")
    with op.batch_alter_table("meeting_items") as batch_op:
        batch_op.drop_column("due_date")
        batch_op.drop_column("action_owner")
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.drop_column("apologies")
        batch_op.drop_column("attendees")
