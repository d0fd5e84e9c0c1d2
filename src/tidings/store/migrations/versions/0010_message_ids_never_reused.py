"""a deleted message's id is never given to a new one (SQLite AUTOINCREMENT)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Without AUTOINCREMENT SQLite gives a new row the largest id plus one, so deleting the newest
message (status.php del) handed its id to the next: that message met the old one's ledger
entries (its charge then broke the ledger's one-charge-per-message index, and its claim failed
for good), upstream ids and callbacks. PostgreSQL sequences never go back: nothing to do.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        # SQLite cannot alter a key to AUTOINCREMENT: the table is rebuilt (nothing points to
        # it by a foreign key) and its sequence starts after the largest id kept.
        with op.batch_alter_table(
            "messages", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table(
            "messages", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
