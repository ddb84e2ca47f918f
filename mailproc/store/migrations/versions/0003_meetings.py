"""meetings: time, title, location, length, status, sequence; (date, theme) unique; agenda items

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing meetings get the built-in defaults (14:00, 90 minutes, no location, planned) and
each issue already scheduled to a meeting becomes an item of its agenda. Several meetings may
now share a date: the unique key becomes (date, theme).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = ("planned", "cancelled", "held")  # frozen copy of MeetingStatus
ITEM_KINDS = ("issue", "item")  # frozen copy of MeetingItemKind


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(sa.Column("time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("location", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("length_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    _fill_existing_meetings()
    with op.batch_alter_table("meetings") as batch_op:
        for name in ("time", "title", "location", "length_minutes", "status", "sequence"):
            batch_op.alter_column(name, nullable=False)
        batch_op.alter_column("created_at", nullable=False)
        batch_op.alter_column("updated_at", nullable=False)
        batch_op.drop_constraint("uq_meetings_date", type_="unique")
        batch_op.create_unique_constraint("uq_meetings_date_theme", ["date", "theme"])
        batch_op.create_check_constraint("ck_meetings_meeting_status", _in("status", STATUSES))
    _create_items_table()
    _items_for_scheduled_issues()


def _fill_existing_meetings() -> None:
    # Bound as Python values, so each dialect stores its own TIME/DATETIME form.
    meetings = sa.table(
        "meetings",
        sa.column("time", sa.Time()), sa.column("title", sa.Text()), sa.column("location", sa.Text()),
        sa.column("length_minutes", sa.Integer()), sa.column("status", sa.String()),
        sa.column("sequence", sa.Integer()), sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    now = datetime.now(UTC)
    op.execute(
        meetings.update().values(
            time=time(14, 0),
            title="",
            location="",
            length_minutes=90,
            status="planned",
            sequence=0,
            created_at=now,
            updated_at=now,
        )
    )


def _create_items_table() -> None:
    op.create_table(
        "meeting_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("discussion", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("kind", ITEM_KINDS), name="ck_meeting_items_meeting_item_kind"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name="fk_meeting_items_meeting_id_meetings"),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name="fk_meeting_items_issue_id_issues"),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_items"),
        sa.UniqueConstraint("meeting_id", "position", name="uq_meeting_items_meeting_position"),
    )
    op.create_index("ix_meeting_items_meeting_id", "meeting_items", ["meeting_id"])
    op.create_index("ix_meeting_items_issue_id", "meeting_items", ["issue_id"])


def _items_for_scheduled_issues() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, meeting_id FROM issues WHERE meeting_id IS NOT NULL ORDER BY meeting_id, id")
    ).all()
    items = sa.table(
        "meeting_items",
        sa.column("meeting_id", sa.Integer()), sa.column("position", sa.Integer()),
        sa.column("kind", sa.String()), sa.column("issue_id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    positions: dict[int, int] = {}
    now = datetime.now(UTC)
    for issue_id, meeting_id in rows:
        positions[meeting_id] = positions.get(meeting_id, 0) + 1
        op.execute(
            items.insert().values(
                meeting_id=meeting_id,
                position=positions[meeting_id],
                kind="issue",
                issue_id=issue_id,
                created_at=now,
            )
        )


def downgrade() -> None:
    op.drop_index("ix_meeting_items_issue_id", table_name="meeting_items")
    op.drop_index("ix_meeting_items_meeting_id", table_name="meeting_items")
    op.drop_table("meeting_items")
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.drop_constraint("ck_meetings_meeting_status", type_="check")
        batch_op.drop_constraint("uq_meetings_date_theme", type_="unique")
        batch_op.create_unique_constraint("uq_meetings_date", ["date"])
        for name in (
            "updated_at", "created_at", "invited_at", "sequence", "status", "length_minutes", "location",
            "title", "time",
        ):  # fmt: skip
            batch_op.drop_column(name)
