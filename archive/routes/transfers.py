"""``/api/v1/transfers``: 移交 — export a dossier or a selection as a BagIt package,
download it, and record the receiver's integrity check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from archive.db.models import Transfer
from archive.deps import ClockDep, SettingsDep, StoreDep, WorkDep, allowed
from archive.routes.paging import DEFAULT_LIMIT, Cursor, Limit
from archive.routes.records import stream_object
from archive.schemas import Id, ItemsPage, Label
from archive.services.access import Actor
from archive.services.masking import shown_to
from archive.services.transfer import (
    MAX_ITEMS,
    export,
    list_transfers,
    open_package,
    read_transfer,
    record_receipt,
    transferred_ids,
)
from policies import Action

router = APIRouter(prefix="/transfers", tags=["transfers"])


class TransferCreate(BaseModel):
    receiver: Label = Field(description="接收单位, e.g. 杭州市档案馆")
    dossier_id: Id | None = None
    record_ids: list[Id] | None = Field(None, max_length=MAX_ITEMS)


class Receipt(BaseModel):
    valid: bool = Field(description="whether the receiver's BagIt validation passed")
    detail: str = Field("", description="what the receiver's check said", max_length=2000)


class TransferPublic(BaseModel):
    id: str
    created_at: datetime
    sender: str
    receiver: str
    items: list[str]
    package_sha256: str
    package_size: int
    status: str = Field(description="exported | accepted | refused")
    check_result: str
    checked_at: datetime | None


def transfer_public(transfer: Transfer, actor: Actor) -> TransferPublic:
    shown = shown_to(actor, transfer.unit_path)
    return TransferPublic(
        id=transfer.id, created_at=transfer.created_at, sender=transfer.sender,
        receiver=shown.text(transfer.receiver), items=transferred_ids(transfer),
        package_sha256=transfer.package_sha256, package_size=transfer.package_size,
        status=transfer.status, check_result=shown.text(transfer.check_result),
        checked_at=transfer.checked_at)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TransferPublic)
def create(
    body: TransferCreate, work: WorkDep, settings: SettingsDep, store: StoreDep,
    clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.TRANSFER_CREATE))],
) -> TransferPublic:
    """Package the records (originals checked against their sha256 on the way) and keep
    the package for download."""
    transfer = export(work, actor=actor, store=store, receiver=body.receiver,
                      record_ids=body.record_ids, dossier_id=body.dossier_id,
                      now=clock.now(), spool_dir=settings.data_dir / "spool")
    return transfer_public(transfer, actor)


class TransferPage(ItemsPage[TransferPublic]):
    pass


@router.get("", response_model=TransferPage)
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.TRANSFER_READ))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> TransferPage:
    """Transfers of the caller's units, newest first."""
    page = list_transfers(work, actor=actor, limit=limit, cursor=cursor)
    return TransferPage(items=[transfer_public(t, actor) for t in page.items], next=page.next)


@router.get("/{transfer_id}", response_model=TransferPublic)
def show(
    transfer_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.TRANSFER_READ))],
) -> TransferPublic:
    transfer = read_transfer(work, actor=actor, transfer_id=transfer_id)
    return transfer_public(transfer, actor)


@router.get("/{transfer_id}/package", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}}})
def package(
    transfer_id: str, work: WorkDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.TRANSFER_READ))],
) -> StreamingResponse:
    """The BagIt package, zipped (its records' levels must be within the clearance)."""
    transfer = open_package(work, actor=actor, transfer_id=transfer_id)
    return stream_object(store, transfer.package_key, "application/zip", transfer.package_size,
                         f"transfer-{transfer.id}.zip", transfer.package_sha256)


@router.post("/{transfer_id}/receipt", response_model=TransferPublic)
def receipt(
    transfer_id: str, body: Receipt, work: WorkDep, clock: ClockDep,
    actor: Annotated[Actor, Depends(allowed(Action.TRANSFER_CREATE))],
) -> TransferPublic:
    """Record the receiver's integrity check (``archive transfer check`` on their side):
    accepted or refused, with what it said. This closes the handover."""
    transfer = record_receipt(work, actor=actor, transfer_id=transfer_id, valid=body.valid,
                              detail=body.detail, now=clock.now())
    return transfer_public(transfer, actor)
