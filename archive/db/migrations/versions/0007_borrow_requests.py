"""borrow requests (借阅) and the borrow actions in the policy

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Databases seeded before borrowing existed get the shipped borrow rules.
BORROW_RULES = (("staff", "borrow:request"), ("archivist", "borrow:*"))


def upgrade() -> None:
    op.create_table(
        "borrow_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"]),
        sa.ForeignKeyConstraint(["requester_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("requester_id", "dossier_id", "record_id", "status"):
        op.create_index(f"ix_borrow_requests_{column}", "borrow_requests", [column])
    for role, action in BORROW_RULES:
        op.execute(sa.text(
            "INSERT INTO casbin_rule (ptype, v0, v1) SELECT 'p', :role, :action "
            "WHERE NOT EXISTS (SELECT 1 FROM casbin_rule "
            "WHERE ptype = 'p' AND v0 = :role AND v1 = :action)"
        ).bindparams(role=role, action=action))
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")


def downgrade() -> None:
    op.execute("DELETE FROM casbin_rule WHERE ptype = 'p2' OR v1 LIKE 'borrow:%'")
    op.drop_table("borrow_requests")
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")
