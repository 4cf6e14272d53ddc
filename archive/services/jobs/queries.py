"""Ingest jobs as their readers see them: one job, the jobs of a caller's units, the
records the search index refused; and the archivist's retry of a failed job.

Public surface: :func:`get_job`, :func:`list_jobs`, :func:`record_of`,
:func:`refused_records`; the API's operations :func:`read_job`, :func:`jobs_of`,
:func:`retry_job`, :func:`refusals_of`.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import (
    Dossier,
    InboxItem,
    IndexRefusal,
    Job,
    Record,
    Unit,
)
from archive.errors import Conflict, NotFound
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.audit import Event
from archive.services.jobs.claiming import requeue
from archive.services.masking import mask_free_text
from archive.services.paging import Page, fetch_page
from archive.services.work import Work
from policies import Action

log = logging.getLogger(__name__)


def get_job(session: Session, *, actor: Actor, job_id: str, action: str = Action.JOB_READ
            ) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.record_id is not None:
        record = session.get(Record, job.record_id)
        assert record is not None
        unit_path = record.dossier.unit.path
    else:
        item = session.get(InboxItem, job.inbox_id)
        assert item is not None
        unit_path = item.unit.path
    require_unit(actor, unit_path, f"job {job_id}", action)
    return job


def list_jobs(session: Session, *, actor: Actor, status: str | None, limit: int = 50,
              cursor: str | None = None) -> Page[Job]:
    """Jobs of the actor's units (by their record's unit, or else their inbox item's),
    newest first."""
    query = (select(Job).outerjoin(Record, Record.id == Job.record_id)
             .outerjoin(Dossier, Dossier.id == Record.dossier_id)
             .outerjoin(InboxItem, InboxItem.id == Job.inbox_id)
             .join(Unit, Unit.id == func.coalesce(Dossier.unit_id, InboxItem.unit_id))
             .where(in_units(Unit.path, units_for(actor, Action.JOB_READ))))
    if status is not None:
        query = query.where(Job.status == status)
    return fetch_page(session, query, tag="jobs", order=[Job.created_at, Job.id],
                      key=lambda job: (job.created_at, job.id), limit=limit, cursor=cursor)


def record_of(session: Session, job: Job) -> str | None:
    """The record a job read; for an inbox item's job, the record it was filed as."""
    if job.record_id is None and job.inbox_id is not None:
        return session.scalar(select(InboxItem.record_id).where(InboxItem.id == job.inbox_id))
    return job.record_id


def refused_records(session: Session, *, actor: Actor, limit: int = 100
                    ) -> list[tuple[IndexRefusal, Record]]:
    """The records of the actor's units the search index refused (its dead-letter list),
    newest first, each with why."""
    within = in_units(Unit.path, units_for(actor, Action.JOB_READ))
    query = (select(IndexRefusal, Record).join(Record, Record.id == IndexRefusal.record_id)
             .join(Dossier, Dossier.id == Record.dossier_id)
             .join(Unit, Unit.id == Dossier.unit_id).where(within)
             .order_by(IndexRefusal.refused_at.desc()).limit(limit))
    return [(refusal, record) for refusal, record in session.execute(query).all()]


# The operations of the API, each recording its audit event in the caller's unit of work.

def read_job(work: Work, *, actor: Actor, job_id: str) -> Job:
    job = get_job(work.session, actor=actor, job_id=job_id)
    work.record(Event("job:read", "job", job_id))
    return job


def jobs_of(work: Work, *, actor: Actor, status: str | None, limit: int,
            cursor: str | None = None) -> Page[Job]:
    page = list_jobs(work.session, actor=actor, status=status, limit=limit, cursor=cursor)
    work.record(Event("job:list", "job", "", details={"status": status,
                                                      "count": len(page.items)}))
    return page


def retry_job(work: Work, *, actor: Actor, job_id: str) -> Job:
    """Queue a failed job again, due now, with every attempt of a new job (after the
    cause was fixed: storage back, the OCR engine installed). The event keeps the failure
    it answers. A job not failed is refused (409)."""
    job = get_job(work.session, actor=actor, job_id=job_id, action=Action.JOB_RETRY)
    if job.status != "failed":
        raise Conflict(f"job {job_id} is {job.status}; only a failed job is retried")
    failure = {"attempts": job.attempts, "error": mask_free_text(job.error or "")}
    requeue(work.session, job)
    work.record(Event("job:retry", "job", job_id, details=failure))
    return job


def refusals_of(work: Work, *, actor: Actor, limit: int
                ) -> list[tuple[IndexRefusal, Record]]:
    found = refused_records(work.session, actor=actor, limit=limit)
    work.record(Event("job:refused", "job", "", details={"count": len(found)}))
    return found
