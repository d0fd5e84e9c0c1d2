"""the audit log (sign-ins, money moved by hand, operator actions) and disabled accounts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), server_default="", nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("target", sa.String(length=255), server_default="", nullable=False),
        sa.Column("details", sa.String(length=500), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_account_id", ["account_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_log")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("disabled")
