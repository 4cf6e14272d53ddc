"""The pipeline of one ingest job, as ordered steps: read the original (text layer or
OCR, page by page, the lease renewed meanwhile) and store its access copy; file the result
(a record's pages, or an inbox item settled by auto-filing); keep the original (WORM).
Then, derived and never failing the job: the masked access copy and the search index.
A step that fails for a backend retries the job with backoff; any other failure fails it
with its reason.

Public surface: :class:`JobContext`, :func:`run_job`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from archive import metrics
from archive.db.models import (
    InboxItem,
    Job,
    Page,
    Record,
    utcnow,
)
from archive.services.access_copies import ensure_masked_copy, needs_masked_copy
from archive.services.audit import Event, Trail
from archive.services.inbox import settle
from archive.services.indexing import enqueue, index_soon
from archive.services.jobs.claiming import JobPolicy, give_up, update_job, worker_name
from archive.services.masking import known_values
from archive.services.records import page_rows
from archive.services.retention import protect_record
from archive.settings import ArchiveNumberSettings, Settings
from archive.spool import scratch
from ingest import IngestError, IngestSettings, extract_pages, inspect
from ingest.ocr import OcrEngine, make_engine
from ingest.pipeline import PageText
from policies import Authorizer
from search import SearchBackend, SearchError
from storage import ObjectStore, StorageError

log = logging.getLogger(__name__)




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
    policy: JobPolicy = field(default_factory=JobPolicy)
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
                update_job(self._ctx.sessions, self._job_id,
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
        update_job(ctx.sessions, job_id, pages_total=info.page_count, pages_done=0)

        took: list[float] = []
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            took.append(now - last[0])
            last[0] = now
            update_job(ctx.sessions, job_id, pages_done=done,
                       progress=round(done / max(total, 1), 3),
                       lease_until=utcnow() + ctx.policy.lease)

        pages = extract_pages(path, ctx.ingest, page_count=info.page_count,
                              engine=ctx.engine, on_page=progress)
        metrics.observe_pages(zip((page.source for page in pages), took, strict=False))
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


@dataclass
class Run:
    """One job on its way through the steps: what it reads, and what each step found."""

    ctx: JobContext
    job_id: str
    kind: str
    attempts: int
    source_id: str  # the record, or the inbox item, whose original is read
    key: str
    sha256: str
    pages: list[PageText] = field(default_factory=list)
    access_key: str | None = None
    record_id: str | None = None  # the record filed, once there is one


def _read(run: Run) -> None:
    run.pages, run.access_key = _read_original(run.ctx, run.job_id, run.key, run.sha256)


def _file(run: Run) -> None:
    if run.kind == "classify":
        run.record_id = _settle_inbox_item(run.ctx, run.source_id, run.pages, run.access_key)
    else:
        _store_results(run.ctx, run.source_id, run.pages, run.access_key)
        run.record_id = run.source_id


def _keep_original(run: Run) -> None:
    if run.kind == "classify" and run.record_id is not None:
        # filed by itself: its original is kept from now (an upload's was at once)
        protect_record(run.ctx.sessions, run.ctx.store, run.record_id)


def _masked_copy(run: Run) -> None:
    if run.record_id is not None:
        _prepare_masked_copy(run.ctx, run.record_id)


def _index(run: Run) -> None:
    if run.record_id is not None:  # found when the job shows done
        index_soon(run.ctx.sessions, run.ctx.search, holder=run.ctx.worker)


# The job's work, in order: a failure retries (a backend's) or fails the job.
STEPS: tuple[Callable[[Run], None], ...] = (_read, _file, _keep_original)
# Derived from what the steps committed, before the job shows done; each catches up on
# its own (the request that needs the copy makes it, the worker loop drains the outbox).
AFTER: tuple[Callable[[Run], None], ...] = (_masked_copy, _index)


def _start(ctx: JobContext, job_id: str) -> Run | None:
    with ctx.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        source = (session.get(Record, job.record_id) if job.record_id is not None
                  else session.get(InboxItem, job.inbox_id))
        if source is None:
            update_job(ctx.sessions, job_id, status="failed",
                       error="its record no longer exists")
            return None
        return Run(ctx, job_id, job.kind, job.attempts, source.id, source.original_key,
                   source.sha256)


def run_job(ctx: JobContext, job_id: str) -> None:
    """Run a claimed job through :data:`STEPS`, then :data:`AFTER`, and mark it done."""
    run = _start(ctx, job_id)
    if run is None:
        return
    try:
        for step in STEPS:
            step(run)
    except (StorageError, SearchError, IngestError) as exc:
        retry = getattr(exc, "retryable", False) and run.attempts < ctx.policy.max_attempts
        log.warning("job %s attempt %d failed: %s", job_id, run.attempts, exc)
        if retry:
            wait = ctx.policy.backoff * (2 ** (run.attempts - 1))
            update_job(ctx.sessions, job_id, status="queued", not_before=utcnow() + wait,
                       lease_until=None, error=f"{type(exc).__name__}: {exc} (retrying)")
        else:
            with ctx.sessions.begin() as session:
                give_up(session, job_id, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:  # a bug: record it on the job, keep the worker alive
        log.exception("job %s crashed", job_id)
        with ctx.sessions.begin() as session:
            give_up(session, job_id, f"internal error: {exc}", kind="internal")
        return
    for step in AFTER:
        try:
            step(run)
        except Exception:  # derived work; see AFTER
            log.warning("job %s: %s deferred", job_id, step.__name__, exc_info=True)
    update_job(ctx.sessions, job_id, status="done", progress=1.0, error=None,
               lease_until=None)
