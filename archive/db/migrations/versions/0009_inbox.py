"""the inbox (待归档) for files imported without catalogue data

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("original_key", sa.String(length=200), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("security_level", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("pages", sa.Text(), nullable=True),
        sa.Column("access_key", sa.String(length=200), nullable=True),
        sa.Column("record_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_inbox_items_unit_id", "inbox_items", ["unit_id"])
    op.create_index("ix_inbox_items_status", "inbox_items", ["status"])
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("record_id", existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column("inbox_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key("fk_jobs_inbox_id", "inbox_items", ["inbox_id"], ["id"])
        batch.create_index("ix_jobs_inbox_id", ["inbox_id"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_inbox_id")
        batch.drop_constraint("fk_jobs_inbox_id", type_="foreignkey")
        batch.drop_column("inbox_id")
        batch.alter_column("record_id", existing_type=sa.String(length=32), nullable=False)
    op.drop_table("inbox_items")
