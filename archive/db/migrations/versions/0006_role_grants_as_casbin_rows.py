"""role grants as Casbin g rows (user, role, unit path)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO casbin_rule (ptype, v0, v1, v2) "
        "SELECT 'g', users.username, users.role, units.path "
        "FROM users JOIN units ON units.id = users.unit_id WHERE users.role <> ''"
    )
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")


def downgrade() -> None:
    op.execute("DELETE FROM casbin_rule WHERE ptype = 'g'")
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")
