"""The ``archive`` command: serve, worker, migrate, units, users, demo, import, reindex,
verify, transfer check."""

from __future__ import annotations

import contextlib
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from archive.settings import get_settings

app = typer.Typer(help="客户档案管理系统 — customer records archive", no_args_is_help=True)


@app.callback()
def _process_start() -> None:
    """Every command of this process writes its metrics where the scrape reads them."""
    from archive import metrics

    settings = get_settings()
    assert settings.metrics_dir is not None
    metrics.configure(settings.metrics_dir)

units_app = typer.Typer(help="Organisational units (单位).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts (用户).", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(users_app, name="users")
transfer_app = typer.Typer(help="Transfers (移交) between archives.", no_args_is_help=True)
app.add_typer(transfer_app, name="transfer")
console = Console(stderr=True)


@contextlib.contextmanager
def _backends():  # type: ignore[no-untyped-def]
    """The backends of one command, closed when it ends."""
    from archive.backends import Backends

    with Backends.open(get_settings()) as backends:
        yield backends


@contextlib.contextmanager
def _database():  # type: ignore[no-untyped-def]
    """The session factory of one command (its backends'), closed when it ends."""
    with _backends() as backends:
        yield backends.sessions


def _read_password(prompt: str) -> str:
    """A password typed unseen at a terminal, or the first line of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]错误 error:[/red] {message}")
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Run the web service (API at /api/v1, OpenAPI at /docs)."""
    import uvicorn

    from archive.app import create_app

    # X-Forwarded-For is read by the app from trusted proxies only (ARCHIVE_TRUSTED_PROXIES)
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info",
                proxy_headers=False)


@app.command()
def worker(
    processes: Annotated[int | None, typer.Option(
        help="worker processes (default: ARCHIVE_WORKER_PROCESSES, else one per core)")] = None,
) -> None:
    """Run ingest workers (OCR, access copies, indexing) until interrupted; for servers
    started with ARCHIVE_EMBEDDED_WORKER=false."""
    import signal
    import threading

    from archive.services.jobs import WorkerPool
    from archive.spool import sweep

    sweep(get_settings().data_dir / "spool")
    pool = WorkerPool(get_settings(), processes)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    pool.start()
    console.print(f"{pool.size} ingest workers running; Ctrl-C stops them")
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema and the root unit."""
    from archive.db.migrate import upgrade
    from archive.services.accounts import ensure_root_unit

    settings = get_settings()
    with _backends() as backends:
        upgrade(backends.engine)
        with backends.sessions.begin() as session:
            ensure_root_unit(session, code=settings.root_unit, name=settings.root_unit_name)
    console.print(f"schema up to date; root unit [bold]{settings.root_unit}[/bold]")


@units_app.command("add")
def units_add(
    code: str,
    name: Annotated[str, typer.Option(help="display name, e.g. 西湖供电所")],
    parent: Annotated[str, typer.Option(help="code of the parent unit")],
) -> None:
    """Add a unit below PARENT."""
    from archive.errors import ArchiveError
    from archive.services.accounts import add_unit

    try:
        with _database() as sessions, sessions.begin() as session:
            unit = add_unit(session, code=code, name=name, parent_code=parent)
            path = unit.path
    except ArchiveError as exc:
        raise _fail(exc.detail) from None
    console.print(f"unit {code} added at {path}")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="archivist|staff|auditor|security_admin|system_admin")],
    unit: Annotated[str, typer.Option(help="code of the user's unit")],
    clearance: Annotated[str, typer.Option(help="公开|内部|受限")] = "内部",
    personal_info: Annotated[bool, typer.Option(
        help="may read phone, ID and bank account numbers unmasked")] = False,
) -> None:
    """Add a user; the password is read from standard input."""
    from archive.errors import ArchiveError
    from archive.services.accounts import add_user

    password = _read_password("password: ")
    from archive.services.audit import Event, Trail

    try:
        with _database() as sessions, sessions.begin() as session:
            add_user(session, username=name, password=password, role=role, unit_code=unit,
                     clearance=clearance, personal_info=personal_info)
            Trail(get_settings().audit.key, None, "cli").record(session, Event(
                "account:create", "user", name, details={
                    "role": role, "unit": unit, "clearance": clearance,
                    "personal_info": personal_info}), username="cli")
    except ArchiveError as exc:
        raise _fail(exc.detail) from None
    console.print(f"user {name} added as {role} in {unit}")


@users_app.command("reset-password")
def users_reset_password(name: str) -> None:
    """Give NAME a new password, read from standard input, to be changed at the next login
    (for any account, the three administrators' included); every session of NAME ends."""
    from archive.errors import ArchiveError
    from archive.services.accounts import get_user, set_password
    from archive.services.audit import Event, Trail

    password = _read_password("temporary password: ")
    try:
        with _database() as sessions, sessions.begin() as session:
            set_password(session, get_user(session, name), password, must_change=True)
            Trail(get_settings().audit.key, None, "cli").record(
                session, Event("password:reset", "user", name), username="cli")
    except ArchiveError as exc:
        raise _fail(exc.detail) from None
    console.print(f"password of {name} reset; it must be changed at the next login")


@app.command()
def demo(
    password: Annotated[str | None, typer.Option(
        envvar="ARCHIVE_DEMO_PASSWORD",
        help="password for the demo users (default: generated and printed)")] = None,
    count: Annotated[int, typer.Option(help="number of demo customers")] = 6,
) -> None:
    """Load demo units, users, customers and generated scanned documents."""
    from archive.commands.demo import load_demo
    from archive.errors import ArchiveError

    try:
        with _backends() as backends:
            load_demo(backends, password=password, customers=count, console=console)
    except ArchiveError as exc:
        raise _fail(exc.detail) from None


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    user: Annotated[str, typer.Option("--as", help="archivist account that files the records")],
    manifest: Annotated[Path | None, typer.Option(
        help="CSV: file,account,doc_type[,category,title,doc_date,security_level] "
             "(default DIR/manifest.csv if present)")] = None,
) -> None:
    """Batch-ingest the files of DIRECTORY with progress bars and a summary: as its manifest
    says, or without one by reading each document's type and 户号 (自动归档); what cannot be
    placed waits in the inbox (待归档, GET /api/v1/inbox)."""
    from archive.commands.batch import import_directory
    from archive.errors import ArchiveError

    if manifest is None and (directory / "manifest.csv").is_file():
        manifest = directory / "manifest.csv"
    try:
        with _backends() as backends:
            summary = import_directory(backends, directory=directory, username=user,
                                       manifest=manifest, console=console)
    except ArchiveError as exc:
        raise _fail(exc.detail) from None
    if summary.failed or summary.ingest_failed:
        raise typer.Exit(1)


@app.command()
def reindex(
    check: Annotated[bool, typer.Option(
        "--check", help="Only compare the index with the database; exit 1 on drift.")] = False,
    retry: Annotated[bool, typer.Option(
        "--retry", help="Only index again the records the index refused (after a fix).")
    ] = False,
) -> None:
    """Rebuild the search index from the database (searches keep working meanwhile)."""
    from rich.progress import Progress

    from archive.services.indexing import (
        check_index,
        drain_outbox,
        rebuild_index,
        refusals,
        retry_refused,
    )
    from archive.services.jobs import worker_name
    from search import SearchError

    try:
        with _backends() as backends, Progress(console=console, transient=True) as bar:
            sessions, search = backends.sessions, backends.search
            task = bar.add_task("核对 checking" if check else "重建索引 reindexing", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if check:
                drift = check_index(sessions, search, progress)
            elif retry:
                with sessions.begin() as session:
                    count = retry_refused(session)
                drain_outbox(sessions, search, holder=f"reindex-{worker_name()}")
                with sessions() as session:
                    still = refusals(session)
            else:
                count = rebuild_index(sessions, search, holder=f"reindex-{worker_name()}",
                                      progress=progress)
    except SearchError as exc:
        raise _fail(f"search backend: {exc}") from None
    if retry:
        console.print(f"{count - len(still)} of {count} refused records indexed")
        for refusal in still:
            console.print(f"  {refusal.record_id}: {refusal.reason}")
        return
    if not check:
        console.print(f"{count} records indexed")
        return
    for label, ids in (("missing from the index 索引缺失", drift.missing),
                       ("in the index, not filed 多余", drift.extra),
                       ("out of date 内容不一致", drift.stale)):
        console.print(f"{label}: {len(ids)}" + (f"  e.g. {', '.join(ids[:5])}" if ids else ""))
    if drift.queued:
        console.print(f"{drift.queued} changes waiting in the outbox (待索引)")
    if drift.refused:
        console.print(f"refused by the index 索引拒收: {len(drift.refused)}  e.g. "
                      f"{', '.join(drift.refused[:5])}  (their reasons: GET "
                      "/api/v1/jobs/refused; `archive reindex --retry` after a fix)")
    if not drift.clean:
        console.print("[red]the index has drifted; run `archive reindex`[/red]")
        raise typer.Exit(1)
    console.print("[green]index matches the database[/green]")


@app.command()
def verify(
    repair: Annotated[bool, typer.Option(
        "--repair", help="Also remove orphan objects older than the job lease.")] = False,
) -> None:
    """Check every original against its sha256, and the audit chain against its anchors;
    report objects in storage that no row names (orphans of a crash mid-upload).
    An intact original that storage does not keep (WORM) gets its lock now: originals filed
    before retention existed, or whose lock failed when they were filed."""
    with _backends() as backends:
        orphans = _orphans(backends, repair)
        _verify(backends, failed=bool(orphans))


def _orphans(backends, repair: bool) -> bool:  # type: ignore[no-untyped-def]
    """Report the orphan objects (and remove the old ones with ``repair``); whether any
    is left."""
    from datetime import UTC, datetime, timedelta

    from archive.services.orphans import find_orphans, remove_orphans

    settings, store = backends.settings, backends.store
    with backends.sessions() as session:
        orphans = find_orphans(session, store)
    if not orphans:
        console.print("孤立对象 orphan objects: none")
        return False
    console.print(f"[red]孤立对象 orphan objects: {len(orphans)}[/red] (stored, named by no row)")
    for orphan in orphans[:20]:
        console.print(f"  {orphan.key}  {orphan.size} bytes  stored {orphan.modified}")
    if not repair:
        console.print("`archive verify --repair` removes those older than the job lease")
        return True
    removed, kept = remove_orphans(backends.sessions, store, orphans, now=datetime.now(UTC),
                                   older_than=timedelta(seconds=settings.job_lease_seconds))
    console.print(f"removed {len(removed)} orphan objects")
    for orphan, why in kept:
        console.print(f"  kept {orphan.key}: {why}")
    return bool(kept)


def _verify(backends, *, failed: bool = False) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from rich.progress import Progress
    from sqlalchemy import select

    from archive.db.models import Record
    from archive.services.retention import protect_original
    from storage import StorageError, verify_object

    sessions, store = backends.sessions, backends.store
    bad = locked = 0
    today = datetime.now(UTC).date()
    with sessions() as session:
        records = list(session.scalars(select(Record).where(Record.destroyed_at.is_(None))))
    with Progress(console=console) as progress:
        task = progress.add_task("核验 verifying originals", total=len(records))
        for record in records:
            try:
                info = verify_object(store, record.original_key)
                if info.sha256 != record.sha256:
                    raise StorageError(f"recorded {record.sha256}, stored {info.sha256}")
                locks = store.locks(record.original_key)
                due = record.retain_until
                if (not locks.legal_hold and locks.retain_until is None
                        and (due is None or due > today)):
                    protect_original(store, record)
                    locked += 1
            except StorageError as exc:
                bad += 1
                console.print(f"[red]record {record.id}[/red]: {exc}")
            progress.advance(task)
    console.print(f"{len(records) - bad} of {len(records)} originals intact")
    if locked:
        console.print(f"{locked} originals were not locked in storage and are now (WORM)")
    from archive.services.audit import anchor, read_anchors
    from archive.services.audit import verify as verify_chain

    settings = get_settings()
    anchors = read_anchors(store)
    with sessions() as session:
        chain = verify_chain(session, key=settings.audit.key, anchors=anchors)
        _report_newest_anchor(anchors, chain.events)
        if chain.ok:
            made = anchor(session, store, retain_days=settings.audit.anchor_retention_days,
                          compliance=settings.audit.anchor_lock == "compliance")
            console.print(f"审计链 audit chain intact: {chain.events} events; anchored now at "
                          f"event {made.seq}")
        else:
            console.print(f"[red]审计链 audit chain broken at event {chain.first_bad_seq}[/red]: "
                          f"{chain.problem}")
    if bad or not chain.ok or failed:
        raise typer.Exit(1)


def _report_newest_anchor(anchors, events: int) -> None:  # type: ignore[no-untyped-def]
    """How old the newest anchor is, and how many events came after it: those are what a
    database holder could still cut unseen."""
    from datetime import UTC, datetime

    from archive.services.audit import newest as newest_of

    newest = newest_of(anchors)
    if newest is None:
        console.print("最新锚点 newest anchor before this check: none; every event was "
                      "unanchored")
        return
    age = ""
    if newest.at is not None:
        seconds = (datetime.now(UTC) - newest.at.astimezone(UTC)).total_seconds()
        age = f", written {max(0, round(seconds))} s ago"
    after = max(0, events - newest.seq)
    console.print(f"最新锚点 newest anchor before this check: event {newest.seq}{age}; "
                  f"{after} events after it")


@transfer_app.command("check")
def transfer_check(
    package: Annotated[Path, typer.Argument(help="the received package: its zip or the "
                                                 "unpacked bag folder")],
) -> None:
    """Validate a received transfer package (BagIt, sha256 manifest), as the receiving
    archive does before it signs for it. Exits 1 when it is not intact."""
    from archive.services.transfer import check_package

    if not package.exists():
        raise _fail(f"{package} does not exist")
    result = check_package(package)
    if not result.valid:
        raise _fail(f"移交包校验失败 package not intact: {result.detail}")
    console.print(f"移交包完整 package intact: {result.detail}")
