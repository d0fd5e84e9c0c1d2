"""callbacks by account: a dispatcher tops up one account's claimed callbacks (the pending
ones of that account in id order) without reading every pending callback

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.create_index("ix_callbacks_account", ["account_id", "done_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_index("ix_callbacks_account")
