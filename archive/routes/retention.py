"""``/api/v1/retention/schedules``: the retention schedule (保管期限表), read and edited by
archivists; every edit is audited with the line before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from archive.db.models import RetentionSchedule
from archive.deps import WorkDep, allowed
from archive.schemas import Note
from archive.services.access import Actor
from archive.services.catalogue import RETENTION_CODES, RETENTION_YEARS
from archive.services.masking import shown_to
from archive.services.retention import edit_schedule, read_schedule, require_company_wide
from policies import Action

router = APIRouter(prefix="/retention", tags=["retention"])


class ScheduleLine(BaseModel):
    doc_type: str = Field(description="文件类型")
    period: str = Field(description="Y | D30 | D10")
    period_label: str = Field(description="永久 / 30年 / 10年")
    years: int | None = Field(description="none when permanent")
    reason: str = Field(description="理由")
    updated_at: datetime
    updated_by: str


class ScheduleEdit(BaseModel):
    period: Literal["Y", "D30", "D10"]
    reason: Note = Field(description="why this period (理由); kept with the line and audited")


def line(entry: RetentionSchedule, actor: Actor) -> ScheduleLine:
    return ScheduleLine(doc_type=entry.doc_type, period=entry.period,
                        period_label=RETENTION_CODES[entry.period],
                        years=RETENTION_YEARS[entry.period],
                        reason=shown_to(actor, actor.unit_path).text(entry.reason),
                        updated_at=entry.updated_at, updated_by=entry.updated_by)


@router.get("/schedules", response_model=list[ScheduleLine])
def schedules(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.RETENTION_READ))],
) -> list[ScheduleLine]:
    entries = read_schedule(work)
    return [line(entry, actor) for entry in entries]


@router.put("/schedules/{doc_type}", response_model=ScheduleLine)
def edit(
    doc_type: str, body: ScheduleEdit, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.RETENTION_EDIT))],
) -> ScheduleLine:
    """Change the period of a record type for records filed from now on; records already
    filed keep theirs until appraisal changes it. The schedule is the company's: only an
    archivist whose role reaches the root unit edits it."""
    require_company_wide(work.session, actor, Action.RETENTION_EDIT)
    entry = edit_schedule(work.session, trail=work.trail, username=actor.username,
                          doc_type=doc_type, period=body.period, reason=body.reason)
    return line(entry, actor)
