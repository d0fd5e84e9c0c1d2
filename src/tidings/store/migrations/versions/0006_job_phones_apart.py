"""keep the recipients as given apart from the list's row

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_phones",
        sa.Column("job_pk", sa.BigInteger(), nullable=False),
        sa.Column("phones_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_pk"], ["jobs.id"], name=op.f("fk_job_phones_job_pk_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_pk", name=op.f("pk_job_phones")),
    )
    op.execute("INSERT INTO job_phones (job_pk, phones_text) SELECT id, phones_text FROM jobs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("phones_text")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phones_text", sa.Text(), server_default="", nullable=False))
    op.execute(
        "UPDATE jobs SET phones_text = COALESCE("
        "(SELECT phones_text FROM job_phones WHERE job_phones.job_pk = jobs.id), '')"
    )
    op.drop_table("job_phones")
