"""Ingest jobs: persistent in the database, claimed atomically, run by workers.

A job moves queued → running → done | failed. The claim is a conditional UPDATE, so two
workers never run the same job, and gives the worker a lease it renews while it works. If
the worker dies (SIGKILL, OOM, power) the lease runs out and another worker claims the
job again; after ``job_max_attempts`` claims it fails with its reason, so a file that kills
workers cannot do so forever. A failed attempt that may succeed later (storage, search or
OCR engine unavailable) waits with exponential backoff.

Nothing a retried job does is duplicated: the page text is replaced in one transaction,
the access copy is stored under a key derived from the original's sha256, and the index
entry is keyed by the record id.

Public surface: :func:`get_job`, :func:`list_jobs`, :func:`claim_next`, :func:`run_job`,
:class:`JobContext`, :class:`Worker` (a thread), :class:`WorkerPool` (processes),
:func:`start_workers`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import (
    Dossier,
    InboxItem,
    IndexRefusal,
    Job,
    Page,
    Record,
    Unit,
    utcnow,
)
from archive.errors import NotFound
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.access_copies import ensure_masked_copy, needs_masked_copy
from archive.services.audit import Event, Trail
from archive.services.disposition import purge_destroyed
from archive.services.inbox import settle
from archive.services.indexing import enqueue, index_pending, index_soon, retry_refused
from archive.services.masking import known_values
from archive.services.records import page_rows
from archive.services.retention import protect_record
from archive.settings import ArchiveNumberSettings, Settings
from archive.spool import scratch
from ingest import IngestError, IngestSettings, extract_pages, inspect
from ingest.ocr import OcrEngine, make_engine
from ingest.pipeline import PageText
from policies import Action, Authorizer
from search import SearchBackend, SearchError
from storage import ObjectStore, StorageError

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


def get_job(session: Session, *, actor: Actor, job_id: str) -> Job:
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
    require_unit(actor, unit_path, f"job {job_id}", Action.JOB_READ)
    return job


def list_jobs(session: Session, *, actor: Actor, status: str | None, limit: int = 100
              ) -> list[Job]:
    """Jobs of the actor's units (by their record's or inbox item's unit), newest first."""
    within = in_units(Unit.path, units_for(actor, Action.JOB_READ))
    of_records = (select(Job).join(Record, Record.id == Job.record_id)
                  .join(Dossier, Dossier.id == Record.dossier_id)
                  .join(Unit, Unit.id == Dossier.unit_id).where(within))
    of_inbox = (select(Job).join(InboxItem, InboxItem.id == Job.inbox_id)
                .join(Unit, Unit.id == InboxItem.unit_id).where(within))
    jobs = []
    for query in (of_records, of_inbox):
        if status is not None:
            query = query.where(Job.status == status)
        jobs += session.scalars(query.order_by(Job.updated_at.desc()).limit(limit)).all()
    return sorted(jobs, key=lambda job: job.updated_at, reverse=True)[:limit]


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
                _give_up(session, job_id, f"the worker stopped during each of {attempts} "
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


def _give_up(session: Session, job_id: str, reason: str) -> None:
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


@dataclass
class JobContext:
    """What a worker needs; the OCR engine is built once per worker, on first use."""

    sessions: sessionmaker[Session]
    store: ObjectStore
    search: SearchBackend
    authorizer: Authorizer  # decides for the accounts whose work a job does (auto-filing)
    ingest: IngestSettings
    spool_dir: Path
    audit_key: bytes
    numbering: ArchiveNumberSettings = field(default_factory=ArchiveNumberSettings)
    policy: JobPolicy = JobPolicy()
    worker: str = field(default_factory=worker_name)
    _engine: OcrEngine | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings, *, sessions: sessionmaker[Session], store: ObjectStore,
           search: SearchBackend, authorizer: Authorizer) -> JobContext:
        return cls(sessions=sessions, store=store, search=search, authorizer=authorizer,
                   ingest=settings.ingest,
                   spool_dir=settings.data_dir / "spool", audit_key=settings.audit.key,
                   numbering=settings.archive_number, policy=JobPolicy.of(settings))

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = make_engine(self.ingest)
        return self._engine


def _set(sessions: sessionmaker[Session], job_id: str, **values: object) -> None:
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(),
                                                                   **values))


class _Lease:
    """Renews a running job's lease from a side thread while the worker is busy on a page
    (a long page must not look like a dead worker)."""

    def __init__(self, ctx: JobContext, job_id: str) -> None:
        self._ctx, self._job_id = ctx, job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True,
                                        name=f"lease-{job_id[:8]}")

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        every = self._ctx.policy.lease.total_seconds() / 3
        while not self._stop.wait(every):
            try:
                _set(self._ctx.sessions, self._job_id,
                     lease_until=utcnow() + self._ctx.policy.lease)
            except Exception:  # the database is briefly away; the next renewal may succeed
                log.warning("could not renew the lease of job %s", self._job_id, exc_info=True)


def _store_results(ctx: JobContext, record_id: str, pages: list[PageText],
                   access_key: str | None) -> None:
    with ctx.sessions.begin() as session:
        record = session.get(Record, record_id)
        assert record is not None
        session.execute(delete(Page).where(Page.record_id == record_id))
        session.add_all(page_rows(record_id, pages, known_values(record.dossier.customer)))
        session.execute(update(Record).where(Record.id == record_id)
                        .values(status="indexed", page_count=len(pages),
                                access_key=access_key))
        enqueue(session, record_id)
        Trail(ctx.audit_key, None, "worker").record(
            session, Event("record:ingest", "record", record_id, details={
                "pages": len(pages), "sources": sorted({p.source for p in pages}),
                "access_copy": access_key is not None}),
            username="system")


def _access_copy(ctx: JobContext, original: Path, pages: list[PageText], sha256: str
                 ) -> str | None:
    """Make and store the searchable PDF if any page was OCR'd; returns its key."""
    if all(p.layout is None for p in pages):
        return None
    from ingest.access_copy import write_access_copy

    target = original.with_name("access.pdf")
    write_access_copy(original, pages, ctx.ingest, target)
    key = f"access/{sha256[:2]}/{sha256}.pdf"
    with open(target, "rb") as stream:
        ctx.store.put(key, stream, content_type="application/pdf")
    return key


def _read_original(ctx: JobContext, job_id: str, key: str, sha256: str
                   ) -> tuple[list[PageText], str | None]:
    """Every page's text (text layer or OCR) and the stored access copy's key, if one."""
    with _Lease(ctx, job_id), scratch(ctx.spool_dir) as tmp:
        path = Path(tmp) / "original"
        with ctx.store.get(key) as source, open(path, "wb") as out:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
        info = inspect(path, ctx.ingest)
        _set(ctx.sessions, job_id, pages_total=info.page_count, pages_done=0)

        def progress(done: int, total: int) -> None:
            _set(ctx.sessions, job_id, pages_done=done, progress=round(done / max(total, 1), 3),
                 lease_until=utcnow() + ctx.policy.lease)

        pages = extract_pages(path, ctx.ingest, page_count=info.page_count,
                              engine=ctx.engine, on_page=progress)
        return pages, _access_copy(ctx, path, pages, sha256)


def _settle_inbox_item(ctx: JobContext, item_id: str, pages: list[PageText],
                       access_key: str | None) -> str | None:
    with ctx.sessions.begin() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
        ctx.authorizer.refresh()  # policy changes committed before this job count
        record = settle(session, item, pages, access_key, numbering=ctx.numbering,
                        trail=Trail(ctx.audit_key, None, "worker"), authorizer=ctx.authorizer)
        return record.id if record is not None else None


def _prepare_masked_copy(ctx: JobContext, record_id: str) -> None:
    """Make the access copy for readers without the personal-information clearance now,
    if they need one of their own; if that fails, its first request makes it."""
    try:
        with ctx.sessions() as session:
            record = session.get(Record, record_id)
            if record is not None and needs_masked_copy(session, record):
                ensure_masked_copy(session, ctx.store, record, settings=ctx.ingest,
                                   spool_dir=ctx.spool_dir)
    except Exception:  # the copy is derived; the request that needs it makes it
        log.warning("masked access copy of record %s deferred", record_id, exc_info=True)


def run_job(ctx: JobContext, job_id: str) -> None:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        attempts, kind = job.attempts, job.kind
        source = (session.get(Record, job.record_id) if job.record_id is not None
                  else session.get(InboxItem, job.inbox_id))
        if source is None:
            _set(ctx.sessions, job_id, status="failed", error="its record no longer exists")
            return
        source_id, key, sha256 = source.id, source.original_key, source.sha256
    try:
        pages, access_key = _read_original(ctx, job_id, key, sha256)
        if kind == "classify":
            record_id = _settle_inbox_item(ctx, source_id, pages, access_key)
            if record_id is not None:  # filed by itself: its original is kept from now
                protect_record(ctx.sessions, ctx.store, record_id)
        else:
            _store_results(ctx, source_id, pages, access_key)
            record_id = source_id
    except (StorageError, SearchError, IngestError) as exc:
        retry = getattr(exc, "retryable", False) and attempts < ctx.policy.max_attempts
        log.warning("job %s attempt %d failed: %s", job_id, attempts, exc)
        if retry:
            wait = ctx.policy.backoff * (2 ** (attempts - 1))
            _set(ctx.sessions, job_id, status="queued", not_before=utcnow() + wait,
                 lease_until=None, error=f"{type(exc).__name__}: {exc} (retrying)")
        else:
            with ctx.sessions.begin() as session:
                _give_up(session, job_id, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:  # a bug: record it on the job, keep the worker alive
        log.exception("job %s crashed", job_id)
        with ctx.sessions.begin() as session:
            _give_up(session, job_id, f"internal error: {exc}")
        return
    if record_id is not None:  # found when the job shows done
        _prepare_masked_copy(ctx, record_id)
        index_soon(ctx.sessions, ctx.search, holder=ctx.worker)
    _set(ctx.sessions, job_id, status="done", progress=1.0, error=None, lease_until=None)


class Worker:
    """Runs due jobs in a background thread until stopped, and keeps the search index
    caught up with the outbox (waiting longer each time the backend is still away)."""

    MAX_INDEX_BACKOFF = 60.0

    def __init__(self, ctx: JobContext, *, poll_seconds: float = 0.5) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._index_backoff = 0.0
        self._index_not_before = 0.0
        self._purge_not_before = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="ingest-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_pending(self) -> int:
        """Run due jobs until none is left; returns how many ran."""
        ran = 0
        while not self._stop.is_set() and (
                job_id := claim_next(self.ctx.sessions, self.ctx.policy, self.ctx.worker)):
            run_job(self.ctx, job_id)
            ran += 1
        self.catch_up_index()
        self.catch_up_purge()
        return ran

    PURGE_EVERY = 60.0

    def catch_up_purge(self) -> None:
        """Remove the objects of records destroyed while storage was away."""
        if time.monotonic() < self._purge_not_before:
            return
        self._purge_not_before = time.monotonic() + self.PURGE_EVERY
        purge_destroyed(self.ctx.sessions, self.ctx.store)

    def catch_up_index(self) -> None:
        if time.monotonic() < self._index_not_before:
            return
        if index_pending(self.ctx.sessions, self.ctx.search, holder=self.ctx.worker):
            self._index_backoff = 0.0
        else:
            self._index_backoff = min(self.MAX_INDEX_BACKOFF, max(1.0, 2 * self._index_backoff))
            self._index_not_before = time.monotonic() + self._index_backoff

    def loop(self) -> None:
        try:  # a fix may have come with this start: try the refused records again
            with self.ctx.sessions.begin() as session:
                retry_refused(session)
        except Exception:
            log.warning("refused records not queued again", exc_info=True)
        while not self._stop.is_set():
            try:
                if not self.run_pending():
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
            except Exception:  # database briefly unavailable: back off, keep running
                log.exception("ingest worker loop")
                self._stop.wait(5.0)


def _die_with_parent(parent: int, stop: Callable[[], None]) -> None:
    """End this process when the one that started it ends, even by SIGKILL: the kernel
    sends SIGTERM (Linux's parent-death signal), and a watch thread catches the rest (the
    parent gone before that was set, or another system)."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            log.warning("no parent-death signal; watching the parent instead")

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        log.warning("the archive's server is gone; this worker stops")
        stop()
        time.sleep(10)
        os._exit(1)  # a job still running after its stop: its lease runs out, it is retried

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_process(settings: Settings, parent: int) -> None:
    """One worker process: its own connections, object store, search client and engine;
    it ends with its parent."""
    import signal

    from archive.backends import Backends

    with Backends.open(settings) as backends:
        worker = Worker(backends.job_context(), poll_seconds=settings.worker_poll_seconds)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
        _die_with_parent(parent, lambda: worker.stop(timeout=0))
        worker.loop()


def start_workers(settings: Settings, ctx: JobContext) -> Worker | WorkerPool:
    """The workers the settings ask for: a thread (``worker_processes=0``) or processes."""
    if settings.worker_processes == 0:
        worker: Worker | WorkerPool = Worker(ctx, poll_seconds=settings.worker_poll_seconds)
    else:
        worker = WorkerPool(settings)
    worker.start()
    return worker


class WorkerPool:
    """N worker processes, restarted when one dies; each claims jobs on its own."""

    def __init__(self, settings: Settings, processes: int | None = None) -> None:
        self.settings = settings
        self.size = processes or settings.worker_processes or os.cpu_count() or 1
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None and p.is_alive()]

    def _spawn(self) -> multiprocessing.process.BaseProcess:
        process = self._context.Process(target=_worker_process,
                                        args=(self.settings, os.getpid()),
                                        name="archive-worker", daemon=True)
        process.start()
        return process

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.size)]
        self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                            name="worker-supervisor")
        self._supervisor.start()

    def notify(self) -> None:
        """Workers poll the database; nothing to wake."""

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            for i, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("worker %s exited with %s; starting another", process.pid,
                                process.exitcode)
                    self._processes[i] = self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join()
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                process.kill()
