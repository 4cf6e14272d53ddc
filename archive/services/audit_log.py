"""The auditor's side of the audit trail: events filtered and exported, access statistics,
unused accounts, the chain's verification. Reading the log is itself audited: each
function records its own event in the caller's unit of work.

Public surface: :data:`FIELDS`, :class:`EventFilter`, :func:`read_events`,
:func:`events_csv`, :func:`access_stats`, :func:`unused_accounts`, :func:`verify_chain`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from archive import metrics
from archive.db.models import AuditEvent, User, utcnow
from archive.services.access import Actor
from archive.services.audit import Anchor, Event, Verification, newest, read_anchors, verify
from archive.services.masking import Shown, shown_to
from archive.services.spreadsheet import rows_as_csv
from archive.services.work import Work
from storage import ObjectStore

FIELDS = ("seq", "at", "actor", "role", "unit", "action", "object_type", "object_id",
          "decision", "reason", "client", "details", "hash")


@dataclass(frozen=True)
class EventFilter:
    actor: str | None = None
    unit: str | None = None
    action: str | None = None
    object_id: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: int = 0  # events after this seq


def _row(event: AuditEvent, shown: Shown) -> dict:
    values = {name: getattr(event, name) for name in FIELDS}
    values["at"] = event.at.isoformat()
    # A query, a typed username or a reason may hold an ID or phone number.
    values["details"] = shown.values(json.loads(event.details or "{}"))
    for name in ("reason", "object_id"):
        values[name] = shown.text(values[name])
    return values


def read_events(work: Work, actor: Actor, filters: EventFilter, *, limit: int,
                format: str) -> list[dict]:
    """The events that pass ``filters``, oldest first, as rows (masked for the actor)."""
    query = select(AuditEvent).where(AuditEvent.seq > filters.after)
    for column, value in ((AuditEvent.actor, filters.actor), (AuditEvent.unit, filters.unit),
                          (AuditEvent.action, filters.action),
                          (AuditEvent.object_id, filters.object_id),
                          (AuditEvent.decision, filters.decision)):
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at <= filters.until)
    # The log is the auditor's duty, not personal information: it stays masked unless a
    # role of theirs holds personal:read (none of the auditor's duty may).
    shown = shown_to(actor, actor.unit_path)
    rows = [_row(e, shown)
            for e in work.session.scalars(query.order_by(AuditEvent.seq).limit(limit))]
    work.record(Event("audit:read", "audit", "", details={
        "filters": {k: v for k, v in asdict(filters).items() if v}, "format": format,
        "count": len(rows)}))
    return rows


def events_csv(rows: list[dict]) -> Iterator[str]:
    """The rows as CSV (formula cells neutralised)."""
    return rows_as_csv(FIELDS, ([json.dumps(row[name], ensure_ascii=False)
                                 if name == "details" else row[name] for name in FIELDS]
                                for row in rows))


def access_stats(work: Work, *, since: datetime | None, until: datetime | None
                 ) -> list[dict]:
    """访问统计: events per day, user and unit, split by decision."""
    day = func.date(AuditEvent.at)
    query = select(day, AuditEvent.actor, AuditEvent.unit, AuditEvent.decision,
                   func.count()).group_by(day, AuditEvent.actor, AuditEvent.unit,
                                          AuditEvent.decision)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    table: dict[tuple[str, str, str], dict] = {}
    for when, user, unit, decision, count in work.session.execute(query.order_by(day)):
        row = table.setdefault((str(when), user, unit), {
            "day": str(when), "actor": user, "unit": unit, "allow": 0, "deny": 0})
        row[decision] = count
    work.record(Event("audit:stats", "audit", "", details={"since": since, "until": until}))
    return list(table.values())


def unused_accounts(work: Work, *, days: int) -> list[User]:
    """Active accounts that have not logged in for ``days`` days (or never)."""
    cutoff = utcnow() - timedelta(days=days)
    users = list(work.session.scalars(select(User).where(
        User.active.is_(True),
        (User.last_login_at.is_(None)) | (User.last_login_at < cutoff),
    ).order_by(User.username)))
    work.record(Event("audit:unused-accounts", "audit", "", details={"days": days}))
    return users


def verify_chain(work: Work, store: ObjectStore) -> tuple[Verification, Anchor | None]:
    """The chain checked link by link and against every anchor in storage, with the newest
    anchor (its age and the events after it say how much is not yet anchored)."""
    anchors = read_anchors(store)
    result = verify(work.session, key=work.trail.key, anchors=anchors)
    metrics.chain_verified(result.ok)
    work.record(Event("audit:verify", "audit", "", details={
        "ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq}))
    return result, newest(anchors)
