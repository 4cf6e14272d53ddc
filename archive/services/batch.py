"""Batch import (``archive import DIR``): file many documents, then ingest them with progress.

Public surface: :func:`import_directory`, :func:`file_document`, :func:`run_jobs`,
:class:`ImportSummary`.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Dossier, Job
from archive.db.session import make_engine, make_sessionmaker
from archive.errors import ArchiveError, DuplicateRecord, InvalidInput
from archive.services.access import Actor, require
from archive.services.accounts import actor_for
from archive.services.audit import Trail
from archive.services.filing import create_dossier, get_customer, parse_doc_date
from archive.services.jobs import JobContext, claim_next, run_job
from archive.services.records import Upload, accept_upload
from archive.settings import Settings
from policies import Action, Authorizer
from search import make_search
from storage import ObjectStore, make_store

MANIFEST_COLUMNS = ("file", "account", "category", "doc_type", "title", "doc_date",
                    "security_level")


@dataclass
class ImportSummary:
    accepted: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    indexed: int = 0
    ingest_failed: int = 0


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


def dossier_for(
    session: Session, *, actor: Actor, settings: Settings, account: str, category: str,
) -> Dossier:
    """The customer's dossier of that category, created with its 档号 if there is none."""
    customer = get_customer(session, actor=actor, account=account)
    dossier = session.scalar(select(Dossier).where(Dossier.customer_id == customer.id,
                                                   Dossier.category == category)
                             .order_by(Dossier.created_at).limit(1))
    if dossier is None:
        dossier = create_dossier(session, actor=actor, numbering=settings.archive_number,
                                 customer_account=account, category=category)
    return dossier


def file_document(
    sessions: sessionmaker[Session], *, actor: Actor, settings: Settings, store: ObjectStore,
    path: Path, account: str, category: str, doc_type: str, title: str,
    doc_date: date | None, security_level: str = "内部",
) -> tuple[str, str]:
    """File one document into its customer's dossier; returns the record and job ids."""
    with sessions.begin() as session:
        dossier_id = dossier_for(session, actor=actor, settings=settings, account=account,
                                 category=category).id
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


def run_jobs(ctx: JobContext, console: Console, job_ids: list[str]) -> tuple[int, int]:
    """Run queued jobs until every job of ``job_ids`` has ended, with a progress bar.

    A running server's worker may take some of the jobs meanwhile; they are counted all
    the same. Returns (done, failed).
    """
    finished: dict[str, str] = {}
    with _progress(console) as progress:
        task = progress.add_task("识别 OCR and indexing", total=len(job_ids))
        while len(finished) < len(job_ids):
            job_id = claim_next(ctx.sessions)
            if job_id is not None:
                run_job(ctx, job_id)
            with ctx.sessions() as session:
                pending = [j for j in job_ids if j not in finished]
                for found, status in session.execute(
                        select(Job.id, Job.status).where(Job.id.in_(pending))):
                    if status in ("done", "failed"):
                        finished[found] = status
            progress.update(task, completed=len(finished))
            if job_id is None and len(finished) < len(job_ids):
                time.sleep(0.5)
    statuses = list(finished.values())
    return statuses.count("done"), statuses.count("failed")


def import_directory(
    settings: Settings, *, directory: Path, username: str, manifest: Path, console: Console,
) -> ImportSummary:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    store = make_store(settings.storage)
    search = make_search(settings.search)
    summary = ImportSummary()
    job_ids: list[str] = []
    try:
        authorizer = Authorizer(engine)
        with sessions() as session:
            actor = replace(actor_for(session, username), authorizer=authorizer)
        require(authorizer, actor, Action.RECORD_CREATE)
        rows = read_manifest(manifest)
        with _progress(console) as progress:
            task = progress.add_task("归档 filing", total=len(rows))
            for row in rows:
                path = (directory / row["file"]).resolve()
                try:
                    if not path.is_relative_to(directory.resolve()) or not path.is_file():
                        raise InvalidInput(f"no file {row['file']} in {directory}")
                    _, job_id = file_document(
                        sessions, actor=actor, settings=settings, store=store, path=path,
                        account=row["account"], category=row["category"],
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
        ctx = JobContext.of(settings, sessions=sessions, store=store, search=search)
        summary.indexed, summary.ingest_failed = run_jobs(ctx, console, job_ids)
    finally:
        search.close()
    console.print(f"导入完成 import finished: {summary.accepted} filed, "
                  f"{summary.duplicates} duplicates skipped, {len(summary.failed)} refused, "
                  f"{summary.indexed} indexed, {summary.ingest_failed} failed in OCR")
    for name, reason in summary.failed:
        console.print(f"  [red]{name}[/red]: {reason}")
    return summary


def read_manifest(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InvalidInput(f"manifest {path} not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("file", "account", "category", "doc_type")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"manifest lacks columns: {', '.join(missing)}")
        return [{c: (row.get(c) or "").strip() for c in MANIFEST_COLUMNS} for row in reader]

