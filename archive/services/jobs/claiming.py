"""Claiming jobs: the conditional UPDATE that gives one worker a job and its lease, the
policy of leases, attempts and backoff, and giving up.

Public surface: :class:`JobPolicy`, :func:`worker_name`, :func:`claim_next`,
:func:`give_up`, :func:`requeue`, :func:`update_job`.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import (
    InboxItem,
    Job,
    Record,
    utcnow,
)
from archive.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobPolicy:
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 4
    backoff: timedelta = timedelta(seconds=5)

    @classmethod
    def of(cls, settings: Settings) -> JobPolicy:
        return cls(lease=timedelta(seconds=settings.job_lease_seconds),
                   max_attempts=settings.job_max_attempts,
                   backoff=timedelta(seconds=settings.job_backoff_seconds))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def claim_next(sessions: sessionmaker[Session], policy: JobPolicy = JobPolicy(),
               worker: str = "") -> str | None:
    """Claim the oldest job that is due: queued and past its backoff, or running under a
    lease that ran out. Returns its id, or None."""
    worker = worker or worker_name()
    now = utcnow()
    due = or_(and_(Job.status == "queued", or_(Job.not_before.is_(None), Job.not_before <= now)),
              and_(Job.status == "running",
                   or_(Job.lease_until.is_(None), Job.lease_until < now)))
    with sessions.begin() as session:
        candidates = session.execute(select(Job.id, Job.status, Job.attempts).where(due)
                                     .order_by(Job.created_at).limit(5)).all()
        for job_id, status, attempts in candidates:
            if status == "running" and attempts >= policy.max_attempts:
                give_up(session, job_id, f"the worker stopped during each of {attempts} "
                                          "attempts (killed, out of memory, or crashed)")
                continue
            claimed = session.execute(
                update(Job).where(Job.id == job_id, Job.status == status,
                                  Job.attempts == attempts)
                .values(status="running", attempts=attempts + 1, worker=worker,
                        lease_until=now + policy.lease, updated_at=now)
            ).rowcount
            if claimed:
                return job_id
    return None


def give_up(session: Session, job_id: str, reason: str) -> None:
    session.execute(update(Job).where(Job.id == job_id)
                    .values(status="failed", error=reason, lease_until=None,
                            updated_at=utcnow()))
    record_id, inbox_id = session.execute(select(Job.record_id, Job.inbox_id)
                                          .where(Job.id == job_id)).one()
    if record_id is not None:
        session.execute(update(Record).where(Record.id == record_id).values(status="failed"))
    if inbox_id is not None:
        session.execute(update(InboxItem).where(InboxItem.id == inbox_id)
                        .values(status="failed", reason=reason))


def requeue(session: Session, job: Job) -> None:
    """A failed job queued again, due now, with its attempts counted afresh; what it
    read is read again (its record or inbox item leaves the failed state)."""
    job.status, job.error, job.attempts, job.not_before = "queued", None, 0, utcnow()
    job.lease_until, job.worker, job.progress, job.pages_done = None, "", 0.0, 0
    job.updated_at = utcnow()
    if job.record_id is not None:
        session.execute(update(Record).where(Record.id == job.record_id,
                                             Record.status == "failed")
                        .values(status="received"))
    if job.inbox_id is not None:
        session.execute(update(InboxItem).where(InboxItem.id == job.inbox_id,
                                                InboxItem.status == "failed")
                        .values(status="received", reason=""))


def update_job(sessions: sessionmaker[Session], job_id: str, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(),
                                                                   **values))


