"""``/api/v1/dossiers``: 案卷 with their 档号 and records."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from archive.db.models import Dossier, Record
from archive.deps import SearchDep, SessionmakerDep, SettingsDep, WorkDep, allowed
from archive.routes.paging import DEFAULT_LIMIT, Cursor, Limit, Search
from archive.schemas import (
    Code,
    DossierCreate,
    DossierItem,
    DossierPage,
    DossierPublic,
    DossierUpdate,
    RecordPage,
    RecordSummary,
)
from archive.services.access import Actor
from archive.services.filing import (
    edit_dossier,
    list_dossiers,
    place_dossier,
    read_dossier,
    register_dossier,
)
from archive.services.indexing import index_soon
from archive.services.jobs.claiming import worker_name
from archive.services.masking import Shown, shown_to
from archive.services.records import list_dossier_records
from policies import Action

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


def _fields(dossier: Dossier, shown: Shown) -> dict:
    return dict(
        id=dossier.id, archive_number=dossier.archive_number,
        customer_account=dossier.customer.account, customer_name=shown.text(dossier.customer.name),
        category=dossier.category, retention_code=dossier.retention_code,
        unit=dossier.unit.code, security_level=dossier.security_level,
        location=shown.text(dossier.location), created_at=dossier.created_at)


def record_summary(record: Record, shown: Shown) -> RecordSummary:
    return RecordSummary.model_validate(record).model_copy(
        update={"title": shown.text(record.title)})


def dossier_public(dossier: Dossier, actor: Actor, *, with_records: bool) -> DossierPublic:
    shown = shown_to(actor, dossier.unit.path)
    return DossierPublic(**_fields(dossier, shown), records=[
        record_summary(r, shown) for r in dossier.records] if with_records else [])


@router.get("", response_model=DossierPage)
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_READ))],
    customer: Annotated[Code | None, Query(description="户号")] = None,
    category: Code | None = None,
    unit: Code | None = None,
    q: Search = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DossierPage:
    """Dossiers the caller may read (their units', and those lent to them), newest first,
    with their number of records: ``q`` is a part of the 档号, a 户号 prefix or a part of
    the 户名."""
    page = list_dossiers(work, actor=actor, customer=customer, category=category, unit=unit,
                         q=q, limit=limit, cursor=cursor)
    return DossierPage(items=[
        DossierItem(**_fields(d, shown_to(actor, d.unit.path)), record_count=count)
        for d, count in page.items], next=page.next)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DossierPublic)
def create(
    body: DossierCreate, work: WorkDep, settings: SettingsDep,
    actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_CREATE))],
) -> DossierPublic:
    dossier = register_dossier(work, actor=actor, numbering=settings.archive_number,
                               **body.model_dump())
    return dossier_public(dossier, actor, with_records=False)


@router.get("/{dossier_id}", response_model=DossierPublic)
def read(
    dossier_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_READ))],
) -> DossierPublic:
    dossier = read_dossier(work, actor=actor, dossier_id=dossier_id)
    return dossier_public(dossier, actor, with_records=True)


@router.get("/{dossier_id}/records", response_model=RecordPage)
def records(
    dossier_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_READ))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RecordPage:
    """The dossier's records, in the order they were filed."""
    page = list_dossier_records(work, actor=actor, dossier_id=dossier_id, limit=limit,
                                cursor=cursor)
    return RecordPage(items=[record_summary(r, shown_to(actor, r.dossier.unit.path))
                             for r in page.items], next=page.next)


@router.patch("/{dossier_id}", response_model=DossierPublic)
def edit(
    dossier_id: str, body: DossierUpdate, work: WorkDep, sessions: SessionmakerDep,
    search: SearchDep, actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_UPDATE))],
) -> DossierPublic:
    """Correct the category (within the retention code of the 档号), the security level
    or where the paper originals are kept; audited with the before and after of what
    changed."""
    dossier = edit_dossier(work, actor=actor, dossier_id=dossier_id, changes=body.changes())
    work.after_commit(lambda: index_soon(sessions, search, holder=worker_name()))
    return dossier_public(dossier, actor, with_records=False)


class Location(BaseModel):
    room: str = Field("", max_length=32, description="库房")
    shelf: str = Field("", max_length=32, description="架")
    box: str = Field("", max_length=32, description="盒")


@router.put("/{dossier_id}/location", response_model=DossierPublic)
def set_location(
    dossier_id: str, body: Location, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.DOSSIER_CREATE))],
) -> DossierPublic:
    """Where the paper originals of the dossier are kept (库房 / 架 / 盒)."""
    dossier = place_dossier(work, actor=actor, dossier_id=dossier_id, room=body.room,
                            shelf=body.shelf, box=body.box)
    return dossier_public(dossier, actor, with_records=False)
