"""the search index outbox and named leases

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_index_outbox_record_id", "index_outbox", ["record_id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    # Records already in the database go through the outbox once, so an index built
    # before this revision is checked against them.
    op.execute("INSERT INTO index_outbox (record_id, enqueued_at) "
               "SELECT id, created_at FROM records")


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_index_outbox_record_id", table_name="index_outbox")
    op.drop_table("index_outbox")
