"""``/api/v1/audit``: the auditor's view of the work.trail — filter, export, verify.

Reading the audit log is itself audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from archive.db.models import AuditEvent, User, utcnow
from archive.deps import StoreDep, WorkDep, allowed
from archive.services.access import Actor
from archive.services.audit import Event, read_anchors, verify
from archive.services.masking import Shown, shown_to
from archive.services.spreadsheet import rows_as_csv
from policies import Action

router = APIRouter(prefix="/audit", tags=["audit"])
FIELDS = ("seq", "at", "actor", "role", "unit", "action", "object_type", "object_id",
          "decision", "reason", "client", "details", "hash")


def _row(event: AuditEvent, shown: Shown) -> dict:
    values = {name: getattr(event, name) for name in FIELDS}
    values["at"] = event.at.isoformat()
    # A query, a typed username or a reason may hold an ID or phone number.
    values["details"] = shown.values(json.loads(event.details or "{}"))
    for name in ("reason", "object_id"):
        values[name] = shown.text(values[name])
    return values


@router.get("/events")
def events(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
    user: Annotated[str | None, Query(alias="actor", description="username",
                                      max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    action: Annotated[str | None, Query(max_length=96)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    decision: Literal["allow", "deny"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Annotated[int, Query(ge=0, le=2 ** 62, description="return events after this seq")
                     ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Literal["json", "csv", "jsonl"] = "json",
):
    query = select(AuditEvent).where(AuditEvent.seq > after)
    for column, value in ((AuditEvent.actor, user), (AuditEvent.unit, unit),
                          (AuditEvent.action, action), (AuditEvent.object_id, object_id),
                          (AuditEvent.decision, decision)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    # The log is the auditor's duty, not personal information: it stays masked unless a
    # role of theirs holds personal:read (none of the auditor's duty may).
    shown = shown_to(actor, actor.unit_path)
    rows = [_row(e, shown)
            for e in work.session.scalars(query.order_by(AuditEvent.seq).limit(limit))]
    filters = {k: v for k, v in {"actor": user, "unit": unit, "action": action,
                                 "object_id": object_id, "decision": decision,
                                 "since": since, "until": until, "after": after}.items() if v}
    work.record(Event("audit:read", "audit", "", details={
        "filters": filters, "format": format, "count": len(rows)}))
    if format == "json":
        return {"events": rows, "next_after": rows[-1]["seq"] if rows else after}
    if format == "jsonl":
        lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return StreamingResponse(lines, media_type="application/x-ndjson", headers={
            "Content-Disposition": 'attachment; filename="audit-events.jsonl"'})
    return StreamingResponse(_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-events.csv"'})


def _csv(rows: list[dict]) -> Iterator[str]:
    return rows_as_csv(FIELDS, ([json.dumps(row[name], ensure_ascii=False)
                                 if name == "details" else row[name] for name in FIELDS]
                                for row in rows))


@router.get("/verify")
def verify_chain(
    work: WorkDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
) -> dict:
    result = verify(work.session, key=work.trail.key, anchors=read_anchors(store))
    work.record(Event("audit:verify", "audit", "", details={
        "ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq}))
    return {"ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem}


@router.get("/stats")
def stats(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict:
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
    work.record(Event("audit:stats", "audit", "", details={
        "since": since, "until": until}))
    return {"rows": list(table.values())}


@router.get("/unused-accounts")
def unused_accounts(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict:
    """Active accounts that have not logged in for ``days`` days (or never)."""
    cutoff = utcnow() - timedelta(days=days)
    users = work.session.scalars(select(User).where(
        User.active.is_(True),
        (User.last_login_at.is_(None)) | (User.last_login_at < cutoff),
    ).order_by(User.username)).all()
    work.record(Event("audit:unused-accounts", "audit", "", details={"days": days}))
    return {"days": days, "accounts": [
        {"username": u.username, "role": u.role, "unit": u.unit.code,
         "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
        for u in users]}
