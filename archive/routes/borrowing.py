"""``/api/v1/borrow-requests``: 借阅 — request, approve or reject, return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from archive.clock import Clock
from archive.db.models import BorrowRequest
from archive.deps import ClockDep, CurrentUser, SessionDep, TrailDep, allowed
from archive.services.access import Actor
from archive.services.audit import Event, Trail
from archive.services.borrowing import (
    MAX_DAYS,
    decide_request,
    list_requests,
    request_borrow,
    request_state,
    return_loan,
)
from policies import Action

router = APIRouter(prefix="/borrow-requests", tags=["borrowing"])


class BorrowCreate(BaseModel):
    record_id: str | None = None
    dossier_id: str | None = None
    purpose: str = Field(description="借阅目的, e.g. 核对用电地址")
    days: int = Field(7, description=f"loan period in days, 1–{MAX_DAYS}")
    kind: Literal["electronic", "physical"] = "electronic"


class Decision(BaseModel):
    note: str = Field("", description="审批意见")


class BorrowPublic(BaseModel):
    id: str
    requester: str
    record_id: str | None
    dossier_id: str
    archive_number: str
    kind: str
    purpose: str
    days: int
    status: str = Field(description="pending|approved|rejected|returned|expired")
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    ends_at: datetime | None
    returned_at: datetime | None


def borrow_public(request: BorrowRequest, now: datetime) -> BorrowPublic:
    return BorrowPublic(
        id=request.id, requester=request.requester.username, record_id=request.record_id,
        dossier_id=request.dossier_id, archive_number=request.dossier.archive_number,
        kind=request.kind, purpose=request.purpose, days=request.days,
        status=request_state(request, now), created_at=request.created_at,
        decided_by=request.decided_by.username if request.decided_by else None,
        decided_at=request.decided_at, decision_note=request.decision_note,
        ends_at=request.ends_at, returned_at=request.returned_at,
    )


def _details(request: BorrowRequest) -> dict:
    return {"record_id": request.record_id, "dossier_id": request.dossier_id,
            "kind": request.kind, "days": request.days, "requester": request.requester.username}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BorrowPublic)
def create(
    body: BorrowCreate, session: SessionDep, trail: TrailDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
) -> BorrowPublic:
    request = request_borrow(session, actor=actor, **body.model_dump())
    trail.record(session, Event("borrow:request", "borrow", request.id,
                                details={**_details(request), "purpose": request.purpose}))
    session.commit()
    return borrow_public(request, clock.now())


@router.get("", response_model=list[BorrowPublic])
def index(
    session: SessionDep, trail: TrailDep, clock: ClockDep, actor: CurrentUser,
    state: Annotated[Literal["pending", "approved", "rejected", "returned"] | None,
                     Query(alias="status")] = None,
) -> list[BorrowPublic]:
    """The caller's own requests and those they may decide, newest first."""
    requests = list_requests(session, actor=actor, status=state)
    trail.record(session, Event("borrow:list", "borrow", "",
                                details={"status": state, "count": len(requests)}))
    session.commit()
    now = clock.now()
    return [borrow_public(r, now) for r in requests]


def _decide(session: Session, trail: Trail, clock: Clock, actor: Actor, request_id: str,
            note: str, *, approve: bool) -> BorrowPublic:
    request = decide_request(session, actor=actor, request_id=request_id, approve=approve,
                             note=note, now=clock.now())
    trail.record(session, Event("borrow:approve" if approve else "borrow:reject", "borrow",
                                request_id, details={**_details(request), "note": note}))
    session.commit()
    return borrow_public(request, clock.now())


@router.post("/{request_id}/approve", response_model=BorrowPublic)
def approve(
    request_id: str, session: SessionDep, trail: TrailDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
    body: Annotated[Decision | None, Body()] = None,
) -> BorrowPublic:
    """Approve a pending request (an archivist of the owning unit, not the requester)."""
    return _decide(session, trail, clock, actor, request_id, body.note if body else "",
                   approve=True)


@router.post("/{request_id}/reject", response_model=BorrowPublic)
def reject(
    request_id: str, session: SessionDep, trail: TrailDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
    body: Annotated[Decision | None, Body()] = None,
) -> BorrowPublic:
    return _decide(session, trail, clock, actor, request_id, body.note if body else "",
                   approve=False)


@router.post("/{request_id}/return", response_model=BorrowPublic)
def give_back(
    request_id: str, session: SessionDep, trail: TrailDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
) -> BorrowPublic:
    """End a loan now: the borrower, or an archivist of the owning unit."""
    request = return_loan(session, actor=actor, request_id=request_id, now=clock.now())
    trail.record(session, Event("borrow:return", "borrow", request_id,
                                details=_details(request)))
    session.commit()
    return borrow_public(request, clock.now())
