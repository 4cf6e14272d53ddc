"""Claiming jobs: the conditional UPDATE that gives one worker a job and its lease, the
policy of leases, attempts and backoff, and giving up.

Public surface: :class:`JobPolicy`, :func:`worker_name`, :func:`claim_next`,
:func:`claim` (one job, for a message), :class:`Claim`, :func:`unattended`,
:func:`give_up`, :func:`requeue`, :func:`update_job`.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive import metrics
from archive.clock import as_utc
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


def _due(now):  # type: ignore[no-untyped-def]
    """Queued and past its backoff, or running under a lease that ran out."""
    return or_(and_(Job.status == "queued", or_(Job.not_before.is_(None), Job.not_before <= now)),
               and_(Job.status == "running",
                    or_(Job.lease_until.is_(None), Job.lease_until < now)))


def _take(session: Session, job_id: str, status: str, attempts: int, policy: JobPolicy,
          worker: str, now: datetime) -> bool:
    """The conditional UPDATE: only the one worker whose update finds the job as it read
    it gets it; a job its workers kept dying on fails instead."""
    if status == "running":
        metrics.lease_expired()
    if status == "running" and attempts >= policy.max_attempts:
        give_up(session, job_id, f"the worker stopped during each of {attempts} "
                                 "attempts (killed, out of memory, or crashed)",
                kind="worker-died")
        return False
    return bool(session.execute(
        update(Job).where(Job.id == job_id, Job.status == status, Job.attempts == attempts)
        .values(status="running", attempts=attempts + 1, worker=worker,
                lease_until=now + policy.lease, updated_at=now)).rowcount)


def claim_next(sessions: sessionmaker[Session], policy: JobPolicy = JobPolicy(),
               worker: str = "") -> str | None:
    """Claim the oldest job that is due: queued and past its backoff, or running under a
    lease that ran out. Returns its id, or None."""
    worker = worker or worker_name()
    now = utcnow()
    with sessions.begin() as session:
        candidates = session.execute(select(Job.id, Job.status, Job.attempts)
                                     .where(_due(now)).order_by(Job.created_at).limit(5)).all()
        for job_id, status, attempts in candidates:
            if _take(session, job_id, status, attempts, policy, worker, now):
                return job_id
    return None


@dataclass(frozen=True)
class Claim:
    """What a message for a job found: the job is this worker's now (``claimed``), or
    not yet due (``wait`` seconds: its backoff, or another worker's live lease), or
    nothing is left to do (neither: done, failed, or no such job)."""

    claimed: bool = False
    wait: float | None = None


def claim(sessions: sessionmaker[Session], job_id: str, policy: JobPolicy = JobPolicy(),
          worker: str = "") -> Claim:
    """Claim this one job if it is due: the fence that makes a message delivered twice,
    or sent again by the sweep, do nothing twice."""
    worker = worker or worker_name()
    now = utcnow()
    with sessions.begin() as session:
        row = session.execute(select(Job.status, Job.attempts, Job.not_before, Job.lease_until)
                              .where(Job.id == job_id)).one_or_none()
        if row is None or row.status in ("done", "failed"):
            return Claim()
        due_at = row.not_before if row.status == "queued" else row.lease_until
        if due_at is not None and as_utc(due_at) > now:  # SQLite gives naive UTC back
            return Claim(wait=(as_utc(due_at) - now).total_seconds())
        if _take(session, job_id, row.status, row.attempts, policy, worker, now):
            return Claim(claimed=True)
        # taken meanwhile by another worker, or given up: look again after its lease
        return Claim(wait=policy.lease.total_seconds()) if row.status == "queued" else Claim()


def unattended(sessions: sessionmaker[Session], *, queued_for: timedelta | None,
               limit: int = 500) -> list[str]:
    """Jobs no worker attends to: running under a lease that ran out (their worker died),
    and, with ``queued_for``, due queued jobs nobody touched for that long (their message
    lost, or never sent while the broker was down). Marked touched now, so the next sweep
    skips them."""
    now = utcnow()
    abandoned = and_(Job.status == "running",
                     or_(Job.lease_until.is_(None), Job.lease_until < now),
                     Job.updated_at < now - timedelta(seconds=1))
    condition = abandoned if queued_for is None else or_(abandoned, and_(
        _due(now), Job.status == "queued", Job.updated_at < now - queued_for))
    with sessions.begin() as session:
        found = list(session.scalars(select(Job.id).where(condition)
                                     .order_by(Job.created_at).limit(limit)))
        if found:
            session.execute(update(Job).where(Job.id.in_(found)).values(updated_at=now))
    return found


def give_up(session: Session, job_id: str, reason: str, *, kind: str = "unreadable") -> None:
    """The job fails for good with its reason (``kind`` counts it in the metrics:
    unreadable, worker-died, internal)."""
    metrics.job_given_up(kind)
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


