"""records lifecycle: retention schedule, due dates, legal holds, disposition and its
register, transfers, paper loans and reminders

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIFECYCLE_RULES = ("retention:*", "disposition:*", "hold:*", "transfer:*")
_YEARS = {"Y": None, "D30": 30, "D10": 10}


def _when() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    from archive.services.catalogue import DEFAULT_SCHEDULE

    with op.batch_alter_table("dossiers") as batch:
        for name in ("room", "shelf", "box"):
            batch.add_column(sa.Column(name, sa.String(length=32), nullable=False,
                                       server_default=""))
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("retain_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_records_retain_until", ["retain_until"])
    with op.batch_alter_table("borrow_requests") as batch:
        batch.add_column(sa.Column("purpose_kind", sa.String(length=16), nullable=False,
                                   server_default="其他"))
        batch.add_column(sa.Column("renewals", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checked_out_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("location", sa.String(length=200), nullable=False,
                                   server_default=""))
        batch.create_foreign_key("fk_borrow_requests_checked_out_by", "users",
                                 ["checked_out_by_id"], ["id"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False,
                  index=True),
        sa.Column("borrow_request_id", sa.String(length=32),
                  sa.ForeignKey("borrow_requests.id"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _when(),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    )
    schedules = op.create_table(
        "retention_schedules",
        sa.Column("doc_type", sa.String(length=32), primary_key=True),
        sa.Column("period", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
    )
    now = datetime.now(UTC)
    op.bulk_insert(schedules, [
        {"doc_type": doc_type, "period": period, "reason": reason, "updated_at": now,
         "updated_by": "-"} for doc_type, (period, reason) in DEFAULT_SCHEDULE.items()])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "disposition_proposals",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("record_id", sa.String(length=32), sa.ForeignKey("records.id"),
                  nullable=False, index=True),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("years", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, index=True),
        sa.Column("proposed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
    )
    op.create_table(
        "destruction_register",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(length=32), nullable=False, index=True),
        sa.Column("proposal_id", sa.String(length=32), nullable=False),
        sa.Column("archive_number", sa.String(length=64), nullable=False),
        sa.Column("customer_account", sa.String(length=32), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("doc_date", sa.Date(), nullable=True),
        sa.Column("security_level", sa.String(length=8), nullable=False),
        sa.Column("retention_period", sa.String(length=8), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_path", sa.String(length=1000), nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=32), primary_key=True),
        _when(),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("unit_path", sa.String(length=1000), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("package_key", sa.String(length=200), nullable=False),
        sa.Column("package_sha256", sa.String(length=64), nullable=False),
        sa.Column("package_size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("check_result", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Records filed before this revision get their due dates from their own periods.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, retention_period, doc_date, created_at FROM records")).all()
    for record_id, period, doc_date, created_at in rows:
        years = _YEARS.get(period)
        if years is None:
            continue
        when = doc_date or created_at
        year = when.year if hasattr(when, "year") else int(str(when)[:4])
        bind.execute(sa.text("UPDATE records SET retain_until = :until WHERE id = :id"),
                     {"until": date(year + 1 + years, 1, 1), "id": record_id})
    for action in LIFECYCLE_RULES:
        op.execute(sa.text(
            "INSERT INTO casbin_rule (ptype, v0, v1) SELECT 'p', 'archivist', :action "
            "WHERE NOT EXISTS (SELECT 1 FROM casbin_rule "
            "WHERE ptype = 'p' AND v0 = 'archivist' AND v1 = :action)"
        ).bindparams(action=action))
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")


def downgrade() -> None:
    for action in LIFECYCLE_RULES:
        op.execute(sa.text("DELETE FROM casbin_rule WHERE ptype = 'p' AND v1 = :action")
                   .bindparams(action=action))
    for table in ("transfers", "destruction_register", "disposition_proposals",
                  "legal_holds", "retention_schedules", "reminders"):
        op.drop_table(table)
    with op.batch_alter_table("borrow_requests") as batch:
        batch.drop_constraint("fk_borrow_requests_checked_out_by", type_="foreignkey")
        for name in ("location", "checked_out_by_id", "checked_out_at", "renewals",
                     "purpose_kind"):
            batch.drop_column(name)
    with op.batch_alter_table("records") as batch:
        batch.drop_index("ix_records_retain_until")
        batch.drop_column("destroyed_at")
        batch.drop_column("retain_until")
    with op.batch_alter_table("dossiers") as batch:
        for name in ("box", "shelf", "room"):
            batch.drop_column(name)
    op.execute("UPDATE policy_version SET version = version + 1 WHERE id = 1")
