"""``/api/v1/audit``: the auditor's view of the trail — filter, export, verify
(:mod:`archive.services.audit_log`; reading the log is itself audited)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from archive.deps import StoreDep, WorkDep, allowed
from archive.services import audit_log
from archive.services.access import Actor
from policies import Action

router = APIRouter(prefix="/audit", tags=["audit"])


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
    rows = audit_log.read_events(work, actor, audit_log.EventFilter(
        actor=user, unit=unit, action=action, object_id=object_id, decision=decision,
        since=since, until=until, after=after), limit=limit, format=format)
    if format == "json":
        return {"events": rows, "next_after": rows[-1]["seq"] if rows else after}
    if format == "jsonl":
        lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return StreamingResponse(lines, media_type="application/x-ndjson", headers={
            "Content-Disposition": 'attachment; filename="audit-events.jsonl"'})
    return StreamingResponse(audit_log.events_csv(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="audit-events.csv"'})


class AnchorPublic(BaseModel):
    seq: int = Field(description="the last event it anchors")
    at: datetime | None = Field(description="when it was written to WORM storage")
    age_seconds: int | None = Field(description="how long ago")
    events_after: int = Field(description="events not yet anchored")


class ChainVerdict(BaseModel):
    ok: bool
    events: int = Field(description="events checked")
    first_bad_seq: int | None = Field(description="the first event that fails, if any")
    problem: str
    newest_anchor: AnchorPublic | None = Field(description="none before the first anchor")


@router.get("/verify", response_model=ChainVerdict)
def verify_chain(
    work: WorkDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
) -> ChainVerdict:
    """验证审计链: every link and every anchor checked; the newest anchor's age and the
    events after it (what a database holder could still cut unseen)."""
    result, anchor = audit_log.verify_chain(work, store)
    newest = None
    if anchor is not None:
        age = None if anchor.at is None else max(0, round(
            (datetime.now(UTC) - anchor.at.astimezone(UTC)).total_seconds()))
        newest = AnchorPublic(seq=anchor.seq, at=anchor.at, age_seconds=age,
                              events_after=max(0, result.events - anchor.seq))
    return ChainVerdict(ok=result.ok, events=result.events, first_bad_seq=result.first_bad_seq,
                        problem=result.problem, newest_anchor=newest)


@router.get("/stats")
def stats(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict:
    """访问统计: events per day, user and unit, split by decision."""
    return {"rows": audit_log.access_stats(work, since=since, until=until)}


@router.get("/unused-accounts")
def unused_accounts(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.AUDIT_READ))],
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict:
    """Active accounts that have not logged in for ``days`` days (or never)."""
    users = audit_log.unused_accounts(work, days=days)
    return {"days": days, "accounts": [
        {"username": u.username, "role": u.role, "unit": u.unit.code,
         "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
        for u in users]}
