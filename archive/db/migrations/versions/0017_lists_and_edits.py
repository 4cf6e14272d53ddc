"""paged lists and edits: the indexes the lists are read in order by, and the rules of the
new actions for installations migrated before the shipped policy had them (the archivist
retries failed jobs; the security admin reads the account directory)

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = (("archivist", "job:retry"), ("security_admin", "account:read"))
INDEXES = (("ix_dossiers_created", "dossiers", ("created_at", "id")),
           ("ix_records_dossier_created", "records", ("dossier_id", "created_at", "id")),
           ("ix_jobs_created", "jobs", ("created_at", "id")),
           ("ix_transfers_created", "transfers", ("created_at", "id")))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))
    connection = op.get_bind()
    for role, action in RULES:
        held = connection.execute(sa.text(
            "SELECT 1 FROM casbin_rule WHERE ptype = 'p' AND v0 = :role AND v1 = :action"),
            {"role": role, "action": action}).first()
        if held is None:
            connection.execute(sa.text(
                "INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('p', :role, :action)"),
                {"role": role, "action": action})
    connection.execute(sa.text("UPDATE policy_version SET version = version + 1 WHERE id = 1"))


def downgrade() -> None:
    connection = op.get_bind()
    for role, action in RULES:
        connection.execute(sa.text(
            "DELETE FROM casbin_rule WHERE ptype = 'p' AND v0 = :role AND v1 = :action"),
            {"role": role, "action": action})
    connection.execute(sa.text("UPDATE policy_version SET version = version + 1 WHERE id = 1"))
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table)
