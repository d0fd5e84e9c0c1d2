"""templates carry a format, a sender and the auto-signature flag (templates.php); a send.php
message keeps its e-mail subject and its h1-h2 hour window (it has no mailing list to take
them from)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.add_column(
            sa.Column("format", sa.String(length=8), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("sender", sa.String(length=320), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("signature", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch.add_column(sa.Column("changed_at", sa.BigInteger(), nullable=True))
        batch.create_index("ix_templates_account_id", ["account_id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("window_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("window_end", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("window_end")
        batch.drop_column("window_start")
        batch.drop_column("subject")
    with op.batch_alter_table("templates") as batch:
        batch.drop_index("ix_templates_account_id")
        batch.drop_column("changed_at")
        batch.drop_column("signature")
        batch.drop_column("sender")
        batch.drop_column("format")
