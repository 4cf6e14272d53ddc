"""``/api/v1/borrow-requests``: 借阅 — request, approve or reject, check out the paper
original, renew, return; the overdue list (催还) and usage statistics (利用统计).
``/api/v1/reminders``: the caller's in-app reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, status
from pydantic import BaseModel, Field

from archive.clock import Clock, as_utc
from archive.db.models import BorrowRequest
from archive.deps import ClockDep, CurrentUser, SessionDep, WorkDep, allowed
from archive.schemas import Code, Id
from archive.services.access import Actor
from archive.services.borrowing import (
    MAX_DAYS,
    MAX_PURPOSE,
    MAX_RENEWALS,
    PURPOSES,
    cancel_request,
    checkout,
    decide_request,
    list_requests,
    overdue_loans,
    read_reminder,
    remind,
    reminders_for,
    renew,
    request_borrow,
    request_state,
    return_loan,
    usage_statistics,
)
from archive.services.masking import shown_to
from archive.services.work import Work
from policies import Action

router = APIRouter(prefix="/borrow-requests", tags=["borrowing"])


class BorrowCreate(BaseModel):
    record_id: Id | None = None
    dossier_id: Id | None = None
    purpose: str = Field(description="借阅目的, e.g. 核对用电地址", max_length=MAX_PURPOSE)
    days: int = Field(7, description=f"loan period in days, 1–{MAX_DAYS}")
    kind: Literal["electronic", "physical"] = "electronic"
    purpose_kind: Code = Field("其他", description=f"利用目的: {'、'.join(PURPOSES)}")


class Renewal(BaseModel):
    days: int = Field(7, description=f"days to add, 1–{MAX_DAYS}; at most {MAX_RENEWALS} "
                                     "renewals")


class Decision(BaseModel):
    note: str = Field("", description="审批意见", max_length=MAX_PURPOSE)


class BorrowPublic(BaseModel):
    id: str
    requester: str
    record_id: str | None
    dossier_id: str
    archive_number: str
    kind: str
    purpose: str
    days: int
    purpose_kind: str
    status: str = Field(description="pending|approved|rejected|cancelled|returned|expired; "
                                    "paper: checked_out|overdue")
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    ends_at: datetime | None = Field(description="end of the loan; for paper, due back")
    returned_at: datetime | None
    renewals: int
    checked_out_at: datetime | None
    location: str = Field(description="where the paper original was taken from")
    days_overdue: int = 0


def _utc(moment: datetime | None) -> datetime | None:
    """Every time in an answer in UTC with its offset (SQLite hands stored ones back naive)."""
    return as_utc(moment) if moment is not None else None


def borrow_public(request: BorrowRequest, now: datetime, actor: Actor) -> BorrowPublic:
    state = request_state(request, now)
    shown = shown_to(actor, request.dossier.unit.path)
    return BorrowPublic(
        id=request.id, requester=request.requester.username, record_id=request.record_id,
        dossier_id=request.dossier_id, archive_number=request.dossier.archive_number,
        kind=request.kind, purpose=shown.text(request.purpose), days=request.days,
        status=state, created_at=as_utc(request.created_at),
        decided_by=request.decided_by.username if request.decided_by else None,
        decided_at=_utc(request.decided_at), decision_note=shown.text(request.decision_note),
        ends_at=_utc(request.ends_at), returned_at=_utc(request.returned_at),
        purpose_kind=request.purpose_kind, renewals=request.renewals,
        checked_out_at=_utc(request.checked_out_at), location=shown.text(request.location),
        days_overdue=(now - as_utc(request.ends_at)).days
        if state == "overdue" and request.ends_at else 0,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BorrowPublic)
def create(
    body: BorrowCreate, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
) -> BorrowPublic:
    request = request_borrow(work, actor=actor, **body.model_dump())
    return borrow_public(request, clock.now(), actor)


@router.get("", response_model=list[BorrowPublic])
def index(
    work: WorkDep, clock: ClockDep, actor: CurrentUser,
    state: Annotated[Literal["pending", "approved", "rejected", "cancelled", "returned"] | None,
                     Query(alias="status")] = None,
) -> list[BorrowPublic]:
    """The caller's own requests and those they may decide, newest first."""
    requests = list_requests(work, actor=actor, status=state)
    now = clock.now()
    return [borrow_public(r, now, actor) for r in requests]


def _decide(work: Work, clock: Clock, actor: Actor, request_id: str, note: str, *,
            approve: bool) -> BorrowPublic:
    request = decide_request(work, actor=actor, request_id=request_id,
                             approve=approve, note=note, now=clock.now())
    return borrow_public(request, clock.now(), actor)


@router.post("/{request_id}/approve", response_model=BorrowPublic)
def approve(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
    body: Annotated[Decision | None, Body()] = None,
) -> BorrowPublic:
    """Approve a pending request (an archivist of the owning unit, not the requester)."""
    return _decide(work, clock, actor, request_id, body.note if body else "",
                   approve=True)


@router.post("/{request_id}/reject", response_model=BorrowPublic)
def reject(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
    body: Annotated[Decision | None, Body()] = None,
) -> BorrowPublic:
    return _decide(work, clock, actor, request_id, body.note if body else "",
                   approve=False)


@router.post("/{request_id}/return", response_model=BorrowPublic)
def give_back(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
) -> BorrowPublic:
    """End a loan now: the borrower, or an archivist of the owning unit."""
    request = return_loan(work, actor=actor, request_id=request_id, now=clock.now())
    return borrow_public(request, clock.now(), actor)


@router.get("/overdue", response_model=list[BorrowPublic])
def overdue(
    work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
) -> list[BorrowPublic]:
    """催还: paper originals of the caller's units still out past their due date."""
    now = clock.now()
    loans = overdue_loans(work, actor=actor, now=now)
    return [borrow_public(r, now, actor) for r in loans]


@router.get("/stats")
def stats(
    work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_STATS))],
    date_from: date | None = None, date_to: date | None = None,
) -> dict:
    """利用统计 of the caller's units: requests by unit, month, record type, purpose, kind
    and state; paper loans and their overdue rate."""
    figures = usage_statistics(work, actor=actor, date_from=date_from, date_to=date_to,
                               now=clock.now())
    return figures


@router.post("/{request_id}/cancel", response_model=BorrowPublic)
def cancel(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
) -> BorrowPublic:
    """Withdraw a pending request, or a paper loan approved but never collected: the
    requester, or an archivist of the owning unit."""
    request = cancel_request(work, actor=actor, request_id=request_id, now=clock.now())
    return borrow_public(request, clock.now(), actor)


@router.post("/{request_id}/checkout", response_model=BorrowPublic)
def check_out(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
) -> BorrowPublic:
    """出库: hand the paper original of an approved physical request to its borrower."""
    request = checkout(work, actor=actor, request_id=request_id, now=clock.now())
    return borrow_public(request, clock.now(), actor)


@router.post("/{request_id}/renew", response_model=BorrowPublic)
def renewal(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_REQUEST))],
    body: Annotated[Renewal | None, Body()] = None,
) -> BorrowPublic:
    """续借: the borrower before the due date, or an archivist of the unit."""
    days = body.days if body else 7
    request = renew(work, actor=actor, request_id=request_id, days=days, now=clock.now())
    return borrow_public(request, clock.now(), actor)


@router.post("/{request_id}/remind", status_code=status.HTTP_201_CREATED)
def send_reminder(
    request_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.BORROW_DECIDE))],
) -> dict:
    """催还: an in-app reminder to the borrower."""
    reminder = remind(work, actor=actor, request_id=request_id, now=clock.now())
    return {"id": reminder.id, "kind": reminder.kind, "message": reminder.message}


reminders_router = APIRouter(prefix="/reminders", tags=["borrowing"])


class NoticePublic(BaseModel):
    id: str | None = Field(description="set for a stored reminder, which can be marked read")
    kind: str = Field(description="due_soon | overdue | to_decide | overdue_list")
    message: str
    borrow_request_id: str | None
    created_at: datetime | None


@reminders_router.get("", response_model=list[NoticePublic])
def my_reminders(session: SessionDep, clock: ClockDep, actor: CurrentUser
                 ) -> list[NoticePublic]:
    """The caller's reminders: unread 催还 notices, loans due within three days or
    overdue, and for archivists the requests waiting and the originals overdue."""
    shown = shown_to(actor, actor.unit_path)
    return [NoticePublic(id=n.id, kind=n.kind, message=shown.text(n.message),
                         borrow_request_id=n.borrow_request_id, created_at=n.created_at)
            for n in reminders_for(session, actor=actor, now=clock.now())]


@reminders_router.post("/{reminder_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_read(reminder_id: str, work: WorkDep, clock: ClockDep, actor: CurrentUser
              ) -> None:
    read_reminder(work.session, actor=actor, reminder_id=reminder_id, now=clock.now())
