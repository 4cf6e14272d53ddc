"""``/api/v1/inbox``: 待归档 — files imported without catalogue data that could not be
filed automatically, the pages of each as read (its access copy), and filing them by
hand."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from archive.db.models import InboxItem
from archive.deps import SearchDep, SettingsDep, StoreDep, WorkDep, allowed
from archive.routes.records import stream_object
from archive.schemas import Code
from archive.services.access import Actor
from archive.services.inbox import (
    file_waiting,
    get_item,
    open_item_copy,
    waiting_items,
)
from archive.services.indexing import index_soon
from archive.services.jobs import worker_name
from archive.services.masking import shown_to
from archive.services.records import stat_object
from archive.services.retention import protect_original
from policies import Action

router = APIRouter(prefix="/inbox", tags=["inbox"])
PREVIEW_CHARS = 300


class InboxPublic(BaseModel):
    id: str
    status: str = Field(description="received|waiting|filed|failed")
    reason: str = Field(description="why it could not be filed automatically")
    original_filename: str
    page_count: int
    created_at: datetime
    doc_type: str = Field(description="文件类型 read from the title, if any")
    account: str = Field(description="户号 read from the text, if any")
    doc_date: date | None
    title: str
    preview: str = Field(description="the start of the text read (masked without clearance)")
    record_id: str | None


class FileRequest(BaseModel):
    customer_account: Code
    doc_type: Code
    title: str = Field(max_length=500)
    doc_date: date | None = None
    security_level: Literal["公开", "内部", "受限"] = "内部"


def inbox_public(item: InboxItem, actor: Actor) -> InboxPublic:
    shown = shown_to(actor, item.unit.path)
    # masked whole, then cut: a cut can show a part of a mask, never of a value
    text = shown.text("\n".join(p["text"] for p in json.loads(item.pages or "[]")))
    return InboxPublic(
        id=item.id, status=item.status, reason=shown.text(item.reason),
        original_filename=shown.text(item.original_filename), page_count=item.page_count,
        created_at=item.created_at, doc_type=item.doc_type, account=item.account,
        doc_date=item.doc_date, title=shown.text(item.title),
        preview=text[:PREVIEW_CHARS], record_id=item.record_id)


@router.get("", response_model=list[InboxPublic])
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CREATE))],
    state: Annotated[Literal["received", "waiting", "filed", "failed"] | None,
                     Query(alias="status")] = "waiting",
) -> list[InboxPublic]:
    """Items of the caller's units, oldest first (default: those waiting for an archivist)."""
    items = waiting_items(work, actor=actor, status=state)
    return [inbox_public(item, actor) for item in items]


@router.get("/{item_id}/access-copy", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}}}})
def access_copy(
    item_id: str, work: WorkDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CREATE))],
) -> StreamingResponse:
    """The item's pages as read: the searchable PDF made when it was read, or a born-digital
    PDF itself. Unmasked, so only for those who may see personal information (403 for the
    others: no masked copy of an inbox item exists), and within the clearance for the item's
    level; 409 before the item is read, and once it is filed (read the record's copy)."""
    item, key = open_item_copy(work, actor=actor, item_id=item_id)
    info = stat_object(store, key)
    stem = Path(item.original_filename or item.id).stem
    return stream_object(store, key, "application/pdf", info.size,
                         f"{stem}.searchable.pdf" if item.access_key else f"{stem}.pdf",
                         info.sha256 or item.sha256)


@router.post("/{item_id}/file", status_code=status.HTTP_201_CREATED,
             response_model=InboxPublic)
def file(
    request: Request, item_id: str, body: FileRequest, work: WorkDep, settings: SettingsDep,
    search: SearchDep, store: StoreDep,
    actor: Annotated[Actor, Depends(allowed(Action.RECORD_CREATE))],
) -> InboxPublic:
    """File a waiting item into its customer's dossier, as the archivist says."""
    item = get_item(work.session, actor=actor, item_id=item_id)
    record = file_waiting(work, item, actor=actor, numbering=settings.archive_number,
                       account=body.customer_account, doc_type=body.doc_type,
                       title=body.title, doc_date=body.doc_date,
                       security_level=body.security_level)
    work.after_commit(lambda: protect_original(store, record))
    work.after_commit(lambda: index_soon(request.app.state.sessions, search,
                                         holder=worker_name()))
    return inbox_public(item, actor)
