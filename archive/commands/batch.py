"""Batch import (``archive import DIR``): file many documents — by a manifest, or by what
their text says (auto-filing, the rest to the inbox) — then ingest them with progress.

Public surface: :func:`import_directory`, :func:`file_document`, :func:`run_jobs`,
:class:`ImportSummary`.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.backends import Backends
from archive.db.models import InboxItem, Job
from archive.errors import ArchiveError, DuplicateRecord, InvalidInput
from archive.services.access import Actor, require
from archive.services.accounts import actor_for
from archive.services.audit import Trail
from archive.services.catalogue import DOC_TYPE_CATEGORIES
from archive.services.filing import dossier_for, parse_doc_date
from archive.services.inbox import accept_to_inbox
from archive.services.jobs import JobContext, Worker, WorkerPool, claim_next, run_job
from archive.services.jobs.dispatch import Dispatcher
from archive.services.records import Upload, accept_upload
from archive.settings import Settings
from policies import Action
from storage import ObjectStore

MANIFEST_COLUMNS = ("file", "account", "category", "doc_type", "title", "doc_date",
                    "security_level")


@dataclass
class ImportSummary:
    accepted: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    indexed: int = 0
    ingest_failed: int = 0
    auto_filed: int = 0  # without a manifest: placed by what their text says
    waiting: int = 0  # without a manifest: left in the inbox for an archivist


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


def file_document(
    sessions: sessionmaker[Session], *, actor: Actor, settings: Settings, store: ObjectStore,
    path: Path, account: str, category: str, doc_type: str, title: str,
    doc_date: date | None, security_level: str = "内部",
) -> tuple[str, str]:
    """File one document into its customer's dossier; returns the record and job ids."""
    with sessions.begin() as session:
        dossier_id = dossier_for(session, actor=actor, numbering=settings.archive_number,
                                 account=account, category=category).id
    with open(path, "rb") as stream:
        record, job = accept_upload(
            sessions, actor=actor, store=store, ingest_settings=settings.ingest,
            max_bytes=settings.max_upload_bytes, spool_dir=settings.data_dir / "spool",
            trail=Trail(settings.audit.key, actor, "cli"),
            upload=Upload(stream=stream, filename=path.name, dossier_id=dossier_id,
                          doc_type=doc_type, title=title, doc_date=doc_date,
                          security_level=security_level),
        )
    return record.id, job.id


def run_jobs(ctx: JobContext, console: Console, job_ids: list[str], settings: Settings,
             dispatcher: Dispatcher) -> tuple[int, int]:
    """Run jobs until every job of ``job_ids`` has ended, with a progress bar of documents
    and pages: in a pool of worker processes (``settings.worker_processes``, by default one
    per core), or here when that is 0. With a broker (Dramatiq) the jobs are announced on
    it and ``archive worker`` on any machine takes them too. A running server's workers
    may take some of the jobs meanwhile; they are counted all the same. Returns
    (done, failed).
    """
    dispatcher.announce(job_ids)
    pool: WorkerPool | Worker | None = None
    if settings.worker_processes != 0:
        pool = WorkerPool(settings)
    elif not dispatcher.polls:  # the broker's messages, consumed in this process
        pool = Worker(ctx, poll_seconds=settings.worker_poll_seconds, dispatcher=dispatcher)
    if pool is not None:
        pool.start()
    finished: dict[str, str] = {}
    try:
        with _progress(console) as progress:
            task = progress.add_task("识别 OCR and indexing", total=len(job_ids))
            while len(finished) < len(job_ids):
                job_id = None
                if pool is None:
                    job_id = claim_next(ctx.sessions, ctx.policy, ctx.worker)
                    if job_id is not None:
                        run_job(ctx, job_id)
                with ctx.sessions() as session:
                    rows = session.execute(select(Job.id, Job.status, Job.pages_done)
                                           .where(Job.id.in_(job_ids))).all()
                finished = {found: status for found, status, _ in rows
                            if status in ("done", "failed")}
                pages = sum(done for _, _, done in rows)
                progress.update(task, completed=len(finished),
                                description=f"识别 OCR and indexing ({pages} pages)")
                if job_id is None and len(finished) < len(job_ids):
                    time.sleep(0.5)
    finally:
        if pool is not None:
            pool.stop()
    statuses = list(finished.values())
    return statuses.count("done"), statuses.count("failed")


def _file_rows(sessions: sessionmaker[Session], *, actor: Actor, settings: Settings,
               store: ObjectStore, directory: Path, rows: list[dict[str, str]],
               summary: ImportSummary, console: Console) -> list[str]:
    """File each manifest row into its customer's dossier; returns the job ids."""
    job_ids = []
    with _progress(console) as progress:
        task = progress.add_task("归档 filing", total=len(rows))
        for row in rows:
            path = (directory / row["file"]).resolve()
            try:
                if not path.is_relative_to(directory.resolve()) or not path.is_file():
                    raise InvalidInput(f"no file {row['file']} in {directory}")
                if row["doc_type"] not in DOC_TYPE_CATEGORIES:
                    raise InvalidInput(f"unknown doc_type {row['doc_type']!r}")
                _, job_id = file_document(
                    sessions, actor=actor, settings=settings, store=store, path=path,
                    account=row["account"],
                    category=row["category"] or DOC_TYPE_CATEGORIES[row["doc_type"]],
                    doc_type=row["doc_type"], title=row["title"] or path.stem,
                    doc_date=parse_doc_date(row["doc_date"]),
                    security_level=row["security_level"] or "内部",
                )
                summary.accepted += 1
                job_ids.append(job_id)
            except DuplicateRecord:
                summary.duplicates += 1
            except ArchiveError as exc:
                summary.failed.append((row["file"], exc.detail))
            progress.advance(task)
    return job_ids


def _receive_files(sessions: sessionmaker[Session], *, actor: Actor, settings: Settings,
                   store: ObjectStore, files: list[Path], summary: ImportSummary,
                   console: Console) -> list[str]:
    """Put each file in the inbox for auto-filing; returns the job ids."""
    job_ids = []
    trail = Trail(settings.audit.key, actor, "cli")
    with _progress(console) as progress:
        task = progress.add_task("接收 receiving", total=len(files))
        for path in files:
            try:
                with open(path, "rb") as stream:
                    _, job = accept_to_inbox(
                        sessions, actor=actor, stream=stream, filename=path.name, store=store,
                        ingest_settings=settings.ingest, max_bytes=settings.max_upload_bytes,
                        spool_dir=settings.data_dir / "spool", trail=trail)
                summary.accepted += 1
                job_ids.append(job.id)
            except DuplicateRecord:
                summary.duplicates += 1
            except ArchiveError as exc:
                summary.failed.append((path.name, exc.detail))
            progress.advance(task)
    return job_ids


def _count_placed(sessions: sessionmaker[Session], job_ids: list[str],
                  summary: ImportSummary) -> None:
    with sessions() as session:
        statuses = session.scalars(select(InboxItem.status).join(Job, Job.inbox_id == InboxItem.id)
                                   .where(Job.id.in_(job_ids))).all()
    summary.auto_filed = statuses.count("filed")
    summary.waiting = statuses.count("waiting")


def import_directory(
    backends: Backends, *, directory: Path, username: str, manifest: Path | None,
    console: Console,
) -> ImportSummary:
    """Import every document of ``directory``: as the manifest says, or (without one) by
    reading each document's type and 户号 from its text, leaving what cannot be placed in
    the inbox."""
    settings, sessions, store = backends.settings, backends.sessions, backends.store
    summary = ImportSummary()
    with sessions() as session:
        actor = actor_for(session, username, backends.authorizer)
    require(actor, Action.RECORD_CREATE)
    if manifest is not None:
        job_ids = _file_rows(sessions, actor=actor, settings=settings, store=store,
                             directory=directory, rows=read_manifest(manifest),
                             summary=summary, console=console)
    else:
        files = sorted(p for p in directory.rglob("*") if p.is_file()
                       and not p.name.startswith("."))
        job_ids = _receive_files(sessions, actor=actor, settings=settings, store=store,
                                 files=files, summary=summary, console=console)
    summary.indexed, summary.ingest_failed = run_jobs(backends.job_context(), console,
                                                      job_ids, settings, backends.dispatcher)
    if manifest is None:
        _count_placed(sessions, job_ids, summary)
    _print_summary(console, summary, auto=manifest is None)
    return summary


def _print_summary(console: Console, summary: ImportSummary, *, auto: bool) -> None:
    console.print(f"导入完成 import finished: {summary.accepted} accepted, "
                  f"{summary.duplicates} duplicates skipped, {len(summary.failed)} refused, "
                  f"{summary.ingest_failed} failed in OCR")
    if auto:
        console.print(f"  自动归档 filed automatically: {summary.auto_filed}; "
                      f"待归档 waiting in the inbox: {summary.waiting}")
    else:
        console.print(f"  filed and indexed: {summary.indexed}")
    for name, reason in summary.failed:
        console.print(f"  [red]{name}[/red]: {reason}")


def read_manifest(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InvalidInput(f"manifest {path} not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("file", "account", "doc_type")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"manifest lacks columns: {', '.join(missing)}")
        return [{c: (row.get(c) or "").strip() for c in MANIFEST_COLUMNS} for row in reader]

