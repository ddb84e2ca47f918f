"""outbox content: the parts a message is composed from at delivery, instead of its bytes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Composing MIME moved out of the transaction that queues the email: a new row keeps the
redacted subject, text and HTML, the envelope and the Date as JSON in `content`, and leaves
`raw` NULL. Rows queued before keep their bytes in `raw` and are sent as they are, so the
upgrade changes no existing row. `purge` empties both once a message is done with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("content", sa.JSON(), nullable=True))
        batch_op.alter_column("raw", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # A row queued since has no bytes to go back to: compose them so that 0006's code can send it.
    from mailproc.outbound.stored import row_bytes

    bind = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("message_id", sa.String()),
        sa.column("raw", sa.LargeBinary()),
        sa.column("content", sa.JSON()),
    )
    rows = bind.execute(sa.select(outbox).where(outbox.c.raw.is_(None))).all()
    for row in rows:
        data = row_bytes(None, row.content, row.message_id) or b""
        bind.execute(sa.update(outbox).where(outbox.c.id == row.id).values(raw=data))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.alter_column("raw", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("content")
