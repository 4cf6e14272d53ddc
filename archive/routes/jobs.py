"""``/api/v1/jobs``: progress of background ingest work."""

from typing import Annotated

from fastapi import APIRouter, Depends

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
    return JobPublic(id=job.id, record_id=job.record_id, status=job.status,  # type: ignore[arg-type]
                     progress=job.progress, error=job.error, attempts=job.attempts)
