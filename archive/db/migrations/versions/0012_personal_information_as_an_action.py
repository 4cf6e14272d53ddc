"""personal information as a policy action: the business roles hold personal:read (the
personal-information clearance of the user still decides)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = (("archivist", "personal:read"), ("staff", "personal:read"))


def upgrade() -> None:
    connection = op.get_bind()
    for role, action in RULES:
        held = connection.execute(sa.text(
            "SELECT 1 FROM casbin_rule WHERE ptype = 'p' AND v0 = :role AND v1 = :action"),
            {"role": role, "action": action}).first()
        if held is None:  # installations migrated before the shipped policy had it
            connection.execute(sa.text(
                "INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('p', :role, :action)"),
                {"role": role, "action": action})
    connection.execute(sa.text("UPDATE policy_version SET version = version + 1 WHERE id = 1"))


def downgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.text(
        "DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = 'personal:read'"))
    connection.execute(sa.text("UPDATE policy_version SET version = version + 1 WHERE id = 1"))
