"""personal values kept as spans of each page; every record queued for indexing again, so
the search index holds page text masked by them

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("personal", sa.Text(), nullable=True))
    # Pages read before keep None: their spans are found when they are next read out.
    # The index entries written before hold the numbers unmasked; the workers replace them.
    op.execute("INSERT INTO index_outbox (record_id, enqueued_at) "
               "SELECT id, CURRENT_TIMESTAMP FROM records WHERE status = 'indexed'")


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("personal")
