"""the SMPP server: inbound messages owed to an account's receiver binds, kept until
acknowledged; when the account last had a receiver bound

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("smpp_receiver_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "door_inbound",
        sa.Column("inbound_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("door", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_door_inbound_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inbound_id", "door", name=op.f("pk_door_inbound")),
    )
    with op.batch_alter_table("door_inbound") as batch:
        batch.create_index("ix_door_inbound_due", ["door", "account_id", "next_at"], unique=False)
        batch.create_index("ix_door_inbound_received", ["door", "received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("door_inbound")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("smpp_receiver_at")
