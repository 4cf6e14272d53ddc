"""role grants name their user "user:<name>", never equal to a role's name (Casbin takes a
subject named like a role for that role, in every unit)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE casbin_rule SET v0 = 'user:' || v0 "
               "WHERE ptype = 'g' AND v0 NOT LIKE 'user:%'")
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")


def downgrade() -> None:
    op.execute("UPDATE casbin_rule SET v0 = substr(v0, 6) "
               "WHERE ptype = 'g' AND v0 LIKE 'user:%'")
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")
