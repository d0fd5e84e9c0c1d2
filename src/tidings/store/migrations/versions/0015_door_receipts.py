"""the SMPP server: accounts' SMPP passwords; door receipts, the final statuses owed to its
clients, kept until acknowledged

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("smpp_password_hash", sa.String(length=255), nullable=True))
    op.create_table(
        "door_receipts",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), server_default="", nullable=False),
        sa.Column("source", sa.String(length=64), server_default="", nullable=False),
        sa.Column("failures_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("err", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_at", sa.BigInteger(), nullable=True),
        sa.Column("next_at", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_door_receipts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_door_receipts")),
    )
    with op.batch_alter_table("door_receipts") as batch:
        batch.create_index("ix_door_receipts_due", ["door", "account_id", "next_at"], unique=False)
        batch.create_index("ix_door_receipts_done", ["door", "done_at"], unique=False)


def downgrade() -> None:
    op.drop_table("door_receipts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("smpp_password_hash")
