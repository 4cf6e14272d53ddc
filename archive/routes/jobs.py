"""``/api/v1/jobs``: progress of background ingest work, and its failures."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from archive.db.models import Job
from archive.deps import DispatcherDep, WorkDep, allowed
from archive.routes.paging import DEFAULT_LIMIT, Cursor, Limit
from archive.schemas import IndexRefusalPublic, JobPage, JobPublic
from archive.services.access import Actor
from archive.services.jobs.queries import (
    jobs_of,
    read_job,
    record_of,
    refusals_of,
    retry_job,
)
from archive.services.masking import mask_free_text, shown_to
from policies import Action

router = APIRouter(prefix="/jobs", tags=["jobs"])


def job_public(session: Session, job: Job) -> JobPublic:
    return JobPublic(id=job.id, record_id=record_of(session, job), inbox_id=job.inbox_id,
                     status=job.status,  # type: ignore[arg-type]
                     progress=job.progress, pages_done=job.pages_done,
                     pages_total=job.pages_total, error=job.error, attempts=job.attempts,
                     retry_at=job.not_before if job.status == "queued" else None)


@router.get("", response_model=JobPage)
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.JOB_READ))],
    state: Annotated[Literal["queued", "running", "done", "failed"] | None,
                     Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> JobPage:
    """Jobs of the caller's units, newest first: ``status=failed`` lists the failures with
    their reasons."""
    page = jobs_of(work, actor=actor, status=state, limit=limit, cursor=cursor)
    return JobPage(items=[job_public(work.session, job) for job in page.items], next=page.next)


@router.get("/refused", response_model=list[IndexRefusalPublic])
def refused(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.JOB_READ))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IndexRefusalPublic]:
    """Records of the caller's units that the search index refused (the dead-letter list),
    with why: they are tried again when they change, when the workers start, and by
    ``archive reindex --retry``."""
    found = refusals_of(work, actor=actor, limit=limit)
    return [IndexRefusalPublic(
        record_id=record.id, reason=mask_free_text(refusal.reason),
        title=shown_to(actor, record.dossier.unit.path).text(record.title),
        attempts=refusal.attempts, refused_at=refusal.refused_at)
        for refusal, record in found]


@router.get("/{job_id}", response_model=JobPublic)
def read(
    job_id: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.JOB_READ))],
) -> JobPublic:
    job = read_job(work, actor=actor, job_id=job_id)
    return job_public(work.session, job)


@router.post("/{job_id}/retry", response_model=JobPublic)
def retry(
    job_id: str, work: WorkDep, dispatcher: DispatcherDep,
    actor: Annotated[Actor, Depends(allowed(Action.JOB_RETRY))],
) -> JobPublic:
    """Queue a failed job again, due now, its attempts counted afresh (once its cause is
    fixed); 409 for a job that has not failed."""
    job = retry_job(work, actor=actor, job_id=job_id)
    work.after_commit(lambda: dispatcher.announce([job_id]))
    return job_public(work.session, job)
