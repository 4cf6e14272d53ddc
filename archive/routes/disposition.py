"""Appraisal and destruction (鉴定/销毁) and legal holds.

``/api/v1/disposition``: the queue of due records, proposals, the second approval, the
destruction register (销毁清册, JSON or CSV). ``/api/v1/records|dossiers|customers/{id}/hold``
places and releases legal holds; ``DELETE /api/v1/records/{id}`` is refused while a record
is held or retained, and past its due date becomes a destruction proposal.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from archive.clock import Clock
from archive.db.models import (
    DestructionEntry,
    DispositionProposal,
    LegalHold,
)
from archive.deps import ClockDep, StoreDep, WorkDep, allowed
from archive.schemas import Id, Note
from archive.services.access import Actor
from archive.services.disposition import (
    MAX_EXTENSION_YEARS,
    active_holds,
    appraise,
    ask_deletion,
    decide_proposal,
    hold,
    hold_unit,
    pending_proposal,
    proposals_of,
    purge_destroyed,
    read_register,
    review_queue,
    unhold,
)
from archive.services.indexing import index_soon
from archive.services.jobs import worker_name
from archive.services.masking import Shown, shown_to
from archive.services.retention import protect_original
from archive.services.spreadsheet import rows_as_csv
from archive.services.work import Work
from policies import Action
from storage import ObjectStore

router = APIRouter(tags=["disposition"])
log = logging.getLogger(__name__)


class HoldPublic(BaseModel):
    id: str
    scope: str
    target: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None


class DueRecord(BaseModel):
    record_id: str
    archive_number: str
    customer_account: str
    doc_type: str
    title: str
    doc_date: date | None
    retention_period: str
    retain_until: date
    holds: list[HoldPublic] = Field(description="legal holds that block its destruction")
    pending_proposal: str | None = Field(description="a destruction waiting for approval")


class ProposalCreate(BaseModel):
    record_id: Id
    action: Literal["retain", "destroy"]
    reason: Note = Field(description="鉴定意见")
    years: int | None = Field(None, description=f"retain: years to extend, 1–{MAX_EXTENSION_YEARS}")


class ProposalPublic(BaseModel):
    id: str
    record_id: str
    archive_number: str
    title: str
    action: str
    years: int | None
    reason: str
    status: str = Field(description="pending | approved | rejected | applied (retain)")
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    retain_until: date | None = Field(description="the record's due date now")


class Decision(BaseModel):
    note: Note = Field("", description="审批意见")


class HoldCreate(BaseModel):
    reason: Note = Field(description="冻结原因, e.g. the court case number")


REGISTER_FIELDS = ("record_id", "archive_number", "customer_account", "customer_name",
                   "doc_type", "title", "doc_date", "security_level", "retention_period",
                   "retain_until", "page_count", "sha256", "size", "proposed_by",
                   "approved_by", "reason", "destroyed_at")
# column headings of the printed register (销毁清册)
REGISTER_LABELS = ("文件编号", "档号", "户号", "户名", "文件类型", "题名", "文件日期", "密级",
                   "保管期限", "到期日", "页数", "原件SHA-256", "字节数", "鉴定人", "批准人",
                   "销毁理由", "销毁时间")


class RegisterEntry(BaseModel):
    model_config = {"from_attributes": True}

    record_id: str
    archive_number: str
    customer_account: str
    customer_name: str
    doc_type: str
    title: str
    doc_date: date | None
    security_level: str
    retention_period: str
    retain_until: date | None
    page_count: int
    sha256: str
    size: int
    proposed_by: str
    approved_by: str
    reason: str
    destroyed_at: datetime


def _register_entry(entry: DestructionEntry, shown: Shown) -> RegisterEntry:
    row = RegisterEntry.model_validate(entry)
    return row.model_copy(update={"title": shown.text(row.title),
                                  "reason": shown.text(row.reason)})


def hold_public(hold: LegalHold, shown: Shown) -> HoldPublic:
    return HoldPublic(id=hold.id, scope=hold.scope, target=hold.target,
                      reason=shown.text(hold.reason),
                      placed_by=hold.placed_by, placed_at=hold.placed_at,
                      released_by=hold.released_by, released_at=hold.released_at)


def proposal_public(proposal: DispositionProposal, actor: Actor) -> ProposalPublic:
    record = proposal.record
    shown = shown_to(actor, record.dossier.unit.path)
    return ProposalPublic(
        id=proposal.id, record_id=record.id, archive_number=record.dossier.archive_number,
        title=shown.text(record.title), action=proposal.action, years=proposal.years,
        reason=shown.text(proposal.reason), status=proposal.status,
        proposed_by=proposal.proposed_by.username, proposed_at=proposal.proposed_at,
        decided_by=proposal.decided_by.username if proposal.decided_by else None,
        decided_at=proposal.decided_at, decision_note=shown.text(proposal.decision_note),
        retain_until=record.retain_until)


@router.get("/disposition/due", response_model=list[DueRecord])
def due(
    work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_READ))],
) -> list[DueRecord]:
    """The appraisal queue (待鉴定): records of the caller's units past their due date."""
    records = review_queue(work, actor=actor, today=clock.now().date())
    listed = []
    for record in records:
        assert record.retain_until is not None
        waiting = pending_proposal(work.session, record.id)
        shown = shown_to(actor, record.dossier.unit.path)
        listed.append(DueRecord(
            record_id=record.id, archive_number=record.dossier.archive_number,
            customer_account=record.dossier.customer.account, doc_type=record.doc_type,
            title=shown.text(record.title), doc_date=record.doc_date,
            retention_period=record.retention_period, retain_until=record.retain_until,
            holds=[hold_public(h, shown) for h in active_holds(work.session, record)],
            pending_proposal=waiting.id if waiting else None))
    return listed


def _after_retain(store: ObjectStore, proposal: DispositionProposal) -> None:
    if proposal.action == "retain":
        protect_original(store, proposal.record)  # storage keeps it to the new date


@router.post("/disposition", status_code=status.HTTP_201_CREATED,
             response_model=ProposalPublic)
def create_proposal(
    body: ProposalCreate, work: WorkDep, clock: ClockDep,
    store: StoreDep, actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_PROPOSE))],
) -> ProposalPublic:
    """Appraise a due record: retain it longer (applied at once) or propose to destroy it
    (a second archivist approves)."""
    proposal = appraise(work, actor=actor, record_id=body.record_id, action=body.action,
                        reason=body.reason, years=body.years, today=clock.now().date())
    work.after_commit(lambda: _after_retain(store, proposal))
    return proposal_public(proposal, actor)


@router.get("/disposition/proposals", response_model=list[ProposalPublic])
def proposals(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_READ))],
    state: Annotated[Literal["pending", "approved", "rejected", "applied"] | None,
                     Query(alias="status")] = None,
) -> list[ProposalPublic]:
    found = proposals_of(work, actor=actor, status=state)
    return [proposal_public(p, actor) for p in found]


def _decide(request: Request, work: Work, clock: Clock, store: ObjectStore, actor: Actor,
            proposal_id: str, note: str, *, approve: bool) -> ProposalPublic:
    proposal = decide_proposal(work, actor=actor, proposal_id=proposal_id, approve=approve,
                               note=note, now=clock.now())
    record = proposal.record
    if approve:  # the decision stands; storage and index follow (or the worker loop does)
        state = request.app.state
        work.after_commit(lambda: purge_destroyed(state.sessions, store, record.id))
        work.after_commit(lambda: index_soon(state.sessions, state.search,
                                             holder=worker_name()))
    return proposal_public(proposal, actor)


@router.post("/disposition/{proposal_id}/approve", response_model=ProposalPublic)
def approve(
    request: Request, proposal_id: str, work: WorkDep, clock: ClockDep,
    store: StoreDep, actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_APPROVE))],
    body: Annotated[Decision | None, Body()] = None,
) -> ProposalPublic:
    """The second archivist approves a destruction, which is carried out at once: the
    original, access copy, text and index entry go; the register keeps the entry."""
    return _decide(request, work, clock, store, actor, proposal_id,
                   body.note if body else "", approve=True)


@router.post("/disposition/{proposal_id}/reject", response_model=ProposalPublic)
def reject(
    request: Request, proposal_id: str, work: WorkDep, clock: ClockDep,
    store: StoreDep, actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_APPROVE))],
    body: Annotated[Decision | None, Body()] = None,
) -> ProposalPublic:
    return _decide(request, work, clock, store, actor, proposal_id,
                   body.note if body else "", approve=False)


@router.get("/disposition/register", response_model=list[RegisterEntry],
            responses={200: {"content": {"text/csv": {}}}})
def destruction_register(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DISPOSITION_READ))],
    format: Literal["json", "csv"] = "json",
) -> list[RegisterEntry] | Response:
    """销毁清册: what was destroyed, when, on whose proposal and approval, with the hash of
    each original. ``format=csv`` gives it with Chinese column headings, for printing."""
    entries: list[DestructionEntry] = read_register(work, actor=actor, format=format)
    rows = [_register_entry(e, shown_to(actor, e.unit_path)) for e in entries]
    if format == "json":
        return rows
    text = "".join(rows_as_csv(REGISTER_LABELS, ([getattr(row, name) for name in REGISTER_FIELDS]
                                                 for row in rows)))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=register.csv"})


def _hold_routes(scope: str, path: str) -> None:
    """POST and DELETE ``{path}/hold`` for one scope."""

    def place(
        target: str, body: HoldCreate, work: WorkDep, clock: ClockDep,
        actor: Annotated[Actor, Depends(allowed(Action.HOLD_PLACE))],
    ) -> HoldPublic:
        placed = hold(work, actor=actor, scope=scope, target=target, reason=body.reason,
                      now=clock.now())
        return hold_public(placed, shown_to(actor, hold_unit(work.session, scope, target)))

    def release(
        target: str, work: WorkDep, clock: ClockDep,
        actor: Annotated[Actor, Depends(allowed(Action.HOLD_RELEASE))],
    ) -> HoldPublic:
        released = unhold(work, actor=actor, scope=scope, target=target, now=clock.now())
        return hold_public(released, shown_to(actor, hold_unit(work.session, scope, target)))

    router.add_api_route(f"{path}/{{target}}/hold", place, methods=["POST"],
                         status_code=status.HTTP_201_CREATED, response_model=HoldPublic,
                         summary=f"Place a legal hold on a {scope}", name=f"hold_{scope}")
    router.add_api_route(f"{path}/{{target}}/hold", release, methods=["DELETE"],
                         response_model=HoldPublic, summary=f"Release a {scope}'s legal hold",
                         name=f"release_{scope}")


for _scope, _path in (("record", "/records"), ("dossier", "/dossiers"),
                      ("customer", "/customers")):
    _hold_routes(_scope, _path)


@router.delete("/records/{record_id}", status_code=status.HTTP_202_ACCEPTED,
               response_model=ProposalPublic)
def delete_record(
    record_id: str, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_DELETE))],
    reason: Annotated[str, Query(max_length=1000,
                                 description="why it should go (the proposal's reason)")] = "",
) -> ProposalPublic:
    """Refused (409) while the record is under a legal hold or within its retention; past
    its due date the deletion becomes a destruction proposal (202) that a second archivist
    approves. Nothing is deleted by one person alone."""
    proposal = ask_deletion(work, actor=actor, record_id=record_id, reason=reason,
                            today=clock.now().date())
    return proposal_public(proposal, actor)
