"""``/api/v1/dossiers``: 案卷 with their 档号 and records."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from archive.db.models import Dossier
from archive.deps import SettingsDep, WorkDep, allowed
from archive.schemas import DossierCreate, DossierPublic, RecordSummary
from archive.services.access import Actor
from archive.services.filing import place_dossier, read_dossier, register_dossier
from archive.services.masking import shown_to
from policies import Action

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


def dossier_public(dossier: Dossier, actor: Actor, *, with_records: bool) -> DossierPublic:
    shown = shown_to(actor, dossier.unit.path)
    return DossierPublic(
        id=dossier.id, archive_number=dossier.archive_number,
        customer_account=dossier.customer.account, customer_name=shown.text(dossier.customer.name),
        category=dossier.category, retention_code=dossier.retention_code,
        unit=dossier.unit.code, security_level=dossier.security_level,
        location=shown.text(dossier.location), created_at=dossier.created_at,
        records=[RecordSummary.model_validate(r).model_copy(update={"title": shown.text(r.title)})
                 for r in dossier.records] if with_records else [],
    )


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
