"""``/api/v1/jobs``: progress of background ingest work."""

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from archive.db.models import InboxItem
from archive.deps import SessionDep, TrailDep, allowed
from archive.schemas import JobPublic
from archive.services.access import Actor
from archive.services.audit import Event
from archive.services.jobs import get_job
from policies import Action

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobPublic)
def read(
    job_id: str, session: SessionDep, trail: TrailDep,
    actor: Annotated[Actor, Depends(allowed(Action.JOB_READ))],
) -> JobPublic:
    job = get_job(session, actor=actor, job_id=job_id)
    trail.record(session, Event("job:read", "job", job_id))
    session.commit()
    record_id = job.record_id
    if record_id is None and job.inbox_id is not None:
        record_id = session.scalar(select(InboxItem.record_id)
                                   .where(InboxItem.id == job.inbox_id))
    return JobPublic(id=job.id, record_id=record_id, inbox_id=job.inbox_id,
                     status=job.status,  # type: ignore[arg-type]
                     progress=job.progress, pages_done=job.pages_done,
                     pages_total=job.pages_total, error=job.error, attempts=job.attempts,
                     retry_at=job.not_before if job.status == "queued" else None)
