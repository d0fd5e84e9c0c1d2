"""receipts stored before they are acknowledged; dispatchers' identities and heartbeats

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_receipts",
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("upstream_msg_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("err", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_at", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("upstream", "upstream_msg_id", name=op.f("pk_unmatched_receipts")),
    )
    with op.batch_alter_table("unmatched_receipts") as batch:
        batch.create_index("ix_unmatched_receipts_received_at", ["received_at"], unique=False)
    op.create_table(
        "dispatchers",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), server_default="", nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.Column("stopped_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_dispatchers")),
    )


def downgrade() -> None:
    op.drop_table("dispatchers")
    with op.batch_alter_table("unmatched_receipts") as batch:
        batch.drop_index("ix_unmatched_receipts_received_at")
    op.drop_table("unmatched_receipts")
