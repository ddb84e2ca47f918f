"""publication: an issue's working title, public summary and when it was published

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Nothing is on the register until an administrator publishes it (PUBLISH <public summary>), so
every existing issue starts unpublished: `public_summary` NULL. The working title (TITLE) is
NULL until set; admin mail then shows the submitter's subject.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch_op:
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("public_summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issues") as batch_op:
        batch_op.drop_column("published_at")
        batch_op.drop_column("public_summary")
        batch_op.drop_column("title")
