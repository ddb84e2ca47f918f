"""leaner indexes: issues by (status, id); no index that another one already covers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

The related-issue search of every triage request reads the newest open issues
(`status IN (...) ORDER BY id DESC LIMIT 500`): an index on (status, id) serves it, and it
also serves every lookup by status alone, so the index on status alone goes. The index on
messages.message_id alone duplicates the first column of the unique (message_id, sha256)
index, which serves lookups by Message-ID as well: it goes too (one index fewer to write per
message, and fewer bytes per message stored).

The flood cap of triage requests counts one sender's messages of the last day for every new
message; without an index that count read the whole messages table, so a first poll cost
more per message the larger the mailbox. An index on (from_address, received_at) serves it.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch_op:
        batch_op.create_index("ix_issues_status_id", ["status", "id"], unique=False)
        batch_op.drop_index("ix_issues_status")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_message_id")
        batch_op.create_index("ix_messages_from_received", ["from_address", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_from_received")
        batch_op.create_index("ix_messages_message_id", ["message_id"], unique=False)
    with op.batch_alter_table("issues") as batch_op:
        batch_op.create_index("ix_issues_status", ["status"], unique=False)
        batch_op.drop_index("ix_issues_status_id")
