"""states as non-native enums: CHECK constraints on every state column

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Each state column keeps its string type and gains a CHECK constraint listing the values of
its `StrEnum` in mailproc.vocabulary (the lists are frozen here, as a migration must be).
The "new" issue status was never written by any release; any such row becomes
"awaiting-triage" before the constraint is added.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, column, constraint name, allowed values)
STATES = (
    ("issues", "status", "ck_issues_issue_status", (
        "awaiting-triage", "info-requested", "accepted", "scheduled", "delegated", "escalated",
        "closed", "declined", "duplicate",
    )),
    ("messages", "kind", "ck_messages_message_kind", ("new", "reply", "automatic", "command", "copy")),
    ("quarantine", "status", "ck_quarantine_quarantine_state", ("held", "retried")),
    ("outbox", "state", "ck_outbox_delivery_state", ("pending", "sent", "failed", "cancelled")),
    ("outbox_recipients", "state", "ck_outbox_recipients_recipient_state", ("pending", "retry", "sent", "failed")),
)  # fmt: skip


def upgrade() -> None:
    op.execute("UPDATE issues SET status = 'awaiting-triage' WHERE status = 'new'")
    for table, column, name, values in STATES:
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(name, f"{column} IN ({allowed})")


def downgrade() -> None:
    for table, _column, name, _values in reversed(STATES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="check")
