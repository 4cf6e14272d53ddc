"""Ingest jobs: persistent in the database, claimed atomically, run by a worker.

A job moves queued → running → done | failed. The claim is a conditional UPDATE, so two
workers never run the same job. Text is written in one transaction per record (earlier
pages of a retried job are replaced, never duplicated) and the index entry is keyed by
the record id, so a retry leaves no duplicate.

Public surface: :func:`get_job`, :func:`claim_next`, :func:`run_job`, :func:`requeue_stale`,
:class:`Worker`.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Job, Page, Record, utcnow
from archive.errors import NotFound
from archive.services.access import Actor, require_unit
from archive.services.audit import Event, Trail
from archive.services.indexing import index_record
from archive.settings import Settings
from ingest import IngestError, IngestSettings, extract_pages, inspect
from search import SearchBackend, SearchError
from storage import ObjectStore, StorageError

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def get_job(session: Session, *, actor: Actor, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    record = session.get(Record, job.record_id)
    assert record is not None
    require_unit(actor, record.dossier.unit.path, f"job {job_id}", "job:read")
    return job


def claim_next(sessions: sessionmaker[Session]) -> str | None:
    with sessions.begin() as session:
        candidates = session.scalars(select(Job.id).where(Job.status == "queued")
                                     .order_by(Job.created_at).limit(5)).all()
        for job_id in candidates:
            claimed = session.execute(
                update(Job).where(Job.id == job_id, Job.status == "queued")
                .values(status="running", attempts=Job.attempts + 1, updated_at=utcnow())
            ).rowcount
            if claimed:
                return job_id
    return None


def requeue_stale(sessions: sessionmaker[Session]) -> int:
    """Jobs left running by a worker that died go back to the queue."""
    with sessions.begin() as session:
        return session.execute(
            update(Job).where(Job.status == "running").values(status="queued")
        ).rowcount


@dataclass(frozen=True)
class JobContext:
    sessions: sessionmaker[Session]
    store: ObjectStore
    search: SearchBackend
    ingest: IngestSettings
    spool_dir: Path
    audit_key: bytes

    @classmethod
    def of(cls, settings: Settings, *, sessions: sessionmaker[Session], store: ObjectStore,
           search: SearchBackend) -> JobContext:
        return cls(sessions=sessions, store=store, search=search, ingest=settings.ingest,
                   spool_dir=settings.data_dir / "spool", audit_key=settings.audit.key)


def _set(sessions: sessionmaker[Session], job_id: str, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(),
                                                                   **values))


def run_job(ctx: JobContext, job_id: str) -> None:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        record_id, attempts = job.record_id, job.attempts
        record = session.get(Record, record_id)
        if record is None:
            _set(ctx.sessions, job_id, status="failed", error="record no longer exists")
            return
        key = record.original_key
    try:
        ctx.spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ctx.spool_dir) as tmp:
            path = Path(tmp) / "original"
            with ctx.store.get(key) as source, open(path, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
            info = inspect(path, ctx.ingest)

            def progress(done: int, total: int) -> None:
                _set(ctx.sessions, job_id, progress=round(done / max(total, 1), 3))

            pages = extract_pages(path, ctx.ingest, page_count=info.page_count,
                                  on_page=progress)
        with ctx.sessions.begin() as session:
            session.execute(delete(Page).where(Page.record_id == record_id))
            session.add_all(Page(record_id=record_id, number=p.number, text=p.text,
                                 source=p.source, confidence=p.confidence) for p in pages)
            session.execute(update(Record).where(Record.id == record_id)
                            .values(status="indexed", page_count=len(pages)))
            Trail(ctx.audit_key, None, "worker").record(
                session, Event("record:ingest", "record", record_id, details={
                    "pages": len(pages), "sources": sorted({p.source for p in pages})}),
                username="system")
        with ctx.sessions() as session:
            index_record(session, ctx.search, record_id)
    except (StorageError, SearchError, IngestError) as exc:
        retry = getattr(exc, "retryable", False) and attempts < MAX_ATTEMPTS
        log.warning("job %s attempt %d failed: %s", job_id, attempts, exc)
        _set(ctx.sessions, job_id, status="queued" if retry else "failed",
             error=f"{type(exc).__name__}: {exc}")
        if not retry:
            with ctx.sessions.begin() as session:
                session.execute(update(Record).where(Record.id == record_id)
                                .values(status="failed"))
        return
    except Exception as exc:  # a bug: record it on the job, keep the worker alive
        log.exception("job %s crashed", job_id)
        _set(ctx.sessions, job_id, status="failed", error=f"internal error: {exc}")
        return
    _set(ctx.sessions, job_id, status="done", progress=1.0, error=None)


class Worker:
    """Runs queued jobs in a background thread until stopped."""

    def __init__(self, ctx: JobContext, *, poll_seconds: float = 0.5) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        requeue_stale(self.ctx.sessions)
        self._thread = threading.Thread(target=self._loop, name="ingest-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_pending(self) -> int:
        """Run queued jobs until none is left; returns how many ran."""
        ran = 0
        while not self._stop.is_set() and (job_id := claim_next(self.ctx.sessions)):
            run_job(self.ctx, job_id)
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_pending():
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
            except Exception:  # database briefly unavailable: back off, keep running
                log.exception("ingest worker loop")
                self._stop.wait(5.0)
