"""job leases, backoff and page progress; OCR line layout; access copies

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("pages_done", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("pages_total", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(length=64), server_default="",
                                   nullable=False))
        batch.create_index("ix_jobs_not_before", ["not_before"])
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("layout", sa.Text(), nullable=True))
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("access_key", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("access_key")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("layout")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_not_before")
        for column in ("worker", "lease_until", "not_before", "pages_total", "pages_done"):
            batch.drop_column(column)
