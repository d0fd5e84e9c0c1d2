"""live state of each dispatcher's upstreams

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_states",
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="", nullable=False),
        sa.Column("bound", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("binds_live", sa.Integer(), server_default="0", nullable=False),
        sa.Column("binds_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("in_flight", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_size", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rate", sa.Float(), server_default="0", nullable=False),
        sa.Column("submitted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("last_error_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("upstream", "worker_id", name=op.f("pk_upstream_states")),
    )


def downgrade() -> None:
    op.drop_table("upstream_states")
