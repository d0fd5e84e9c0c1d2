"""inbound messages: assigned inbound numbers, incoming SMS and the parts of long ones,
forwarding to the handler, per-account stop keywords; messages by address (reply routing)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column(
                "forward_inbound", sa.Boolean(), nullable=False, server_default=sa.text("false")
            )
        )
        batch.add_column(sa.Column("stop_keywords", sa.Text(), nullable=True))
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("inbound_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.create_index("ix_messages_address", ["address", "id"], unique=False)
    op.create_table(
        "inbound_numbers",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_inbound_numbers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_inbound_numbers")),
    )
    with op.batch_alter_table("inbound_numbers") as batch:
        batch.create_index("ix_inbound_numbers_account_id", ["account_id"], unique=False)
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("to_phone", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("route", sa.Integer(), nullable=False),
        sa.Column("stop", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("job_pk", sa.BigInteger(), nullable=True),
        sa.Column("parts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("missing", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_inbound_messages_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("inbound_messages") as batch:
        batch.create_index("ix_inbound_messages_account_id", ["account_id", "id"], unique=False)
        batch.create_index("ix_inbound_messages_job_pk", ["job_pk", "id"], unique=False)
        batch.create_index(
            "ix_inbound_messages_upstream", ["upstream", "fingerprint"], unique=False
        )
    op.create_table(
        "inbound_parts",
        sa.Column("upstream", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("inbound_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "upstream",
            "source",
            "destination",
            "ref",
            "total",
            "seq",
            name=op.f("pk_inbound_parts"),
        ),
    )
    with op.batch_alter_table("inbound_parts") as batch:
        batch.create_index("ix_inbound_parts_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_parts")
    op.drop_table("inbound_messages")
    op.drop_table("inbound_numbers")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_address")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("inbound_id")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("stop_keywords")
        batch.drop_column("forward_inbound")
