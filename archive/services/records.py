"""Records (文件): accepting an upload, reading its metadata, original and text.

Accepting is all-or-nothing: the upload is spooled and hashed, checked (kind, structure,
limits, duplicate) before anything is stored; the original is stored under its sha256;
then the record and its ingest job are committed together. If the commit fails the stored
object is removed again, so a failed request leaves no object, row or index entry.

Public surface: :func:`accept_upload`, :func:`get_record`, :func:`open_object`,
:func:`stat_object`, :func:`record_pages`, :func:`page_rows`, :func:`record_target`,
:class:`Upload`, :func:`receive_original`, :func:`forget_original`, :class:`Received`;
the API's operations: :func:`read_record`, :func:`open_content`,
:func:`list_dossier_records`, :func:`edit_record`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Dossier, InboxItem, Job, Page, Record, Unit
from archive.errors import (
    DuplicateRecord,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMedia,
    storage_failure,
)
from archive.services.access import (
    SECURITY_LEVELS,
    Actor,
    in_units,
    permits,
    reach,
    require_unit,
)
from archive.services.audit import Event, Trail
from archive.services.catalogue import DOC_TYPES
from archive.services.filing import get_dossier
from archive.services.indexing import enqueue
from archive.services.masking import mask_values, shown_to, spans_json
from archive.services.paging import Page as ListPage
from archive.services.paging import fetch_page
from archive.services.retention import (
    due_date,
    filing_date,
    period_for,
    protect_original,
    retention_after_edit,
)
from archive.services.work import Work
from archive.spool import scratch
from ingest import (
    MEDIA_TYPES,
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    IngestError,
    IngestSettings,
    LimitExceeded,
    UnsupportedFileType,
    inspect,
)
from ingest.pipeline import PageText
from policies import Action, Target, borrow_key
from search.personal import find_personal
from storage import ObjectInfo, ObjectStore, StorageError

CHUNK = 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """The fields of an upload, as the route received them."""

    stream: BinaryIO
    filename: str
    dossier_id: str
    doc_type: str
    title: str
    doc_date: date | None
    security_level: str


def original_key(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}"


def _spool(stream: BinaryIO, target: Path, max_bytes: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the file is larger than {max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _check_document(path: Path, settings: IngestSettings) -> tuple[str, int]:
    try:
        info = inspect(path, settings)
    except UnsupportedFileType as exc:
        raise UnsupportedMedia(str(exc)) from exc
    except LimitExceeded as exc:
        raise PayloadTooLarge(str(exc)) from exc
    except (EmptyFile, CorruptFile, EncryptedFile) as exc:
        raise InvalidInput(str(exc)) from exc
    except IngestError as exc:  # pragma: no cover - any other refusal of the file
        raise InvalidInput(str(exc)) from exc
    return MEDIA_TYPES[info.kind], info.page_count


@dataclass(frozen=True)
class Received:
    """An original checked and stored under its sha256, not yet catalogued."""

    sha256: str
    size: int
    media_type: str
    page_count: int
    key: str
    filename: str


def duplicate_of(session: Session, actor: Actor, sha256: str) -> DuplicateRecord | None:
    """The refusal of a file already in the archive: naming the record (or inbox item)
    when the actor may see it, and nothing of it when it lies outside their reach."""
    record = session.scalar(select(Record).where(Record.sha256 == sha256))
    if record is not None:
        if permits(actor, record.dossier.unit.path, record_target(record), Action.RECORD_READ):
            return DuplicateRecord(f"this file is already record {record.id}",
                                   record_id=record.id)
        return DuplicateRecord("this file is already in the archive, in a unit outside your "
                               "reach")
    item = session.scalar(select(InboxItem).where(InboxItem.sha256 == sha256))
    if item is not None:
        if permits(actor, item.unit.path, Target(), Action.RECORD_CREATE):
            return DuplicateRecord(f"this file is already inbox item {item.id} (待归档)",
                                   record_id=item.record_id or item.id)
        return DuplicateRecord("this file is already in the archive, in a unit outside your "
                               "reach")
    return None


def receive_original(
    sessions: sessionmaker[Session], *, actor: Actor, stream: BinaryIO, filename: str,
    store: ObjectStore, ingest_settings: IngestSettings, max_bytes: int, spool_dir: Path,
) -> Received:
    """Spool, hash and check an upload, refuse a duplicate, and store the original.

    The caller catalogues it in one transaction and, if that fails, calls
    :func:`forget_original` so nothing is left behind."""
    with scratch(spool_dir) as tmp:
        path = Path(tmp) / "upload"
        sha256, size = _spool(stream, path, max_bytes)
        if size == 0:
            raise InvalidInput("the file is empty")
        media_type, page_count = _check_document(path, ingest_settings)
        with sessions() as session:
            duplicate = duplicate_of(session, actor, sha256)
        if duplicate is not None:
            raise duplicate
        key = original_key(sha256)
        try:
            with open(path, "rb") as f:
                store.put(key, f, sha256=sha256, content_type=media_type)
        except StorageError as exc:
            raise storage_failure(exc) from exc
    return Received(sha256, size, media_type, page_count, key, clean_filename(filename))


# text direction overrides: a name could be made to read as another
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _controls(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI for ch in text)


def clean_filename(filename: str) -> str:
    """The name an original came with, as kept: its last part, without control or format
    characters (a NUL, a right-to-left override), at most 255 characters."""
    name = Path((filename or "").replace("\\", "/")).name
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")[:255]


def forget_original(sessions: sessionmaker[Session], store: ObjectStore, received: Received,
                    exc: Exception, *, actor: Actor) -> None:
    """After a failed catalogue commit: a duplicate if the same file won a race (its object
    is theirs now), else remove the object we stored."""
    with sessions() as session:
        duplicate = duplicate_of(session, actor, received.sha256)
    if duplicate is not None:
        raise duplicate from exc
    _forget_object(store, received.key)


def accept_upload(
    sessions: sessionmaker[Session], *, actor: Actor, upload: Upload, store: ObjectStore,
    ingest_settings: IngestSettings, max_bytes: int, spool_dir: Path, trail: Trail,
) -> tuple[Record, Job]:
    for name in ("dossier_id", "doc_type", "title", "security_level"):
        if _controls(getattr(upload, name)):
            raise InvalidInput(f"{name} holds control characters")
    if upload.doc_type not in DOC_TYPES:
        raise InvalidInput(f"doc_type must be one of {'、'.join(DOC_TYPES)}")
    if upload.security_level not in SECURITY_LEVELS:
        raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
    if not upload.title.strip() or len(upload.title) > 500:
        raise InvalidInput("title is required (at most 500 characters)")
    with sessions() as session:
        dossier = get_dossier(session, actor=actor, dossier_id=upload.dossier_id,
                              action=Action.RECORD_CREATE)
    received = receive_original(sessions, actor=actor, stream=upload.stream,
                                filename=upload.filename,
                                store=store, ingest_settings=ingest_settings,
                                max_bytes=max_bytes, spool_dir=spool_dir)
    today = filing_date()
    try:
        with sessions.begin() as session:
            period = period_for(session, upload.doc_type)
            record = Record(
                dossier_id=dossier.id, doc_type=upload.doc_type, title=upload.title.strip(),
                doc_date=upload.doc_date, security_level=upload.security_level,
                retention_period=period, retain_until=due_date(period, upload.doc_date, today),
                status="received",
                page_count=received.page_count, sha256=received.sha256, size=received.size,
                media_type=received.media_type, original_key=received.key,
                original_filename=received.filename, created_by=actor.user_id,
            )
            session.add(record)
            session.flush()
            job = Job(record_id=record.id, kind="ingest", status="queued")
            session.add(job)
            trail.record(session, Event("record:create", "record", record.id, details={
                "dossier": dossier.archive_number, "sha256": received.sha256,
                "size": received.size}))
    except Exception as exc:
        forget_original(sessions, store, received, exc, actor=actor)
        raise
    protect_original(store, record)
    return record, job


def _forget_object(store: ObjectStore, key: str) -> None:
    try:
        store.delete(key)
    except StorageError:  # pragma: no cover - needs a storage outage mid-request
        log.exception("could not remove %s after a failed upload; remove it by hand", key)


def get_record(
    session: Session, *, actor: Actor, record_id: str, action: str = Action.RECORD_READ,
) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"record {record_id} not found")
    require_unit(actor, record.dossier.unit.path, f"record {record_id}", action,
                 record_target(record))
    return record


def record_target(record: Record) -> Target:
    """The record as the policy sees it: its borrow key and security level."""
    return Target(key=borrow_key(record.dossier_id, record.id), level=record.security_level)


def open_object(store: ObjectStore, key: str) -> BinaryIO:
    try:
        return store.get(key)
    except StorageError as exc:
        raise storage_failure(exc) from exc


def stat_object(store: ObjectStore, key: str) -> ObjectInfo:
    try:
        return store.stat(key)
    except StorageError as exc:
        raise storage_failure(exc) from exc


def page_rows(record_id: str, pages: Iterable[PageText],
              known: Iterable[tuple[str, str]] = ()) -> list[Page]:
    """The ``pages`` rows of a record read by ingest: OCR layouts as compact JSON, and the
    spans of the personal values in each page's text (those of the patterns, and the
    customer's ``known`` values)."""
    known = tuple(known)
    return [Page(record_id=record_id, number=p.number, text=p.text, source=p.source,
                 confidence=p.confidence,
                 layout=json.dumps(p.layout.to_dict(), ensure_ascii=False,
                                   separators=(",", ":")) if p.layout else None,
                 personal=spans_json(find_personal(p.text, known)))
            for p in pages]


def record_pages(session: Session, record: Record) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.record_id == record.id)
                                .order_by(Page.number)))


# The operations of the API, each recording its audit event in the caller's unit of work.

def read_record(work: Work, *, actor: Actor, record_id: str) -> Record:
    record = get_record(work.session, actor=actor, record_id=record_id)
    work.record(Event("record:read", "record", record_id))
    return record


def open_content(
    work: Work, actor: Actor, record_id: str, audited_as: str,
    *, original: bool = False,
) -> Record:
    """The record, once the actor may read its content (unit and clearance, or a borrow
    grant) and the read is audited. The ``original`` bytes cannot be masked (nor be known
    to hold nothing personal: a PDF carries metadata, annotations, hidden text; a scan's
    image is unread by the detector): they go only to those who may see personal
    information."""
    record = get_record(work.session, actor=actor, record_id=record_id,
                        action=Action.RECORD_CONTENT)
    if record.destroyed_at is not None:
        raise Gone(f"record {record_id} was destroyed on {record.destroyed_at:%Y-%m-%d}; "
                   "its entry in the destruction register (销毁清册) remains")
    if original and not shown_to(actor, record.dossier.unit.path).personal:
        raise PermissionDenied(
            f"原件不脱敏: the original of record {record_id} goes only to those who may see "
            f"personal information, which {actor.username} may not; read its access copy "
            "(access-copy), where it is masked")
    work.record(Event(audited_as, "record", record_id))
    return record


def list_dossier_records(work: Work, *, actor: Actor, dossier_id: str, limit: int,
                         cursor: str | None) -> ListPage[Record]:
    """A dossier's records in filing order, those the actor may read the catalogue entry
    of (the dossier's unit, or what is lent to them)."""
    dossier = get_dossier(work.session, actor=actor, dossier_id=dossier_id)
    lent = reach(actor, Action.RECORD_READ)
    query = (select(Record).join(Dossier, Dossier.id == Record.dossier_id)
             .join(Unit, Unit.id == Dossier.unit_id)
             .where(Record.dossier_id == dossier.id,
                    or_(and_(in_units(Unit.path, lent.units),
                             Record.security_level.in_(lent.levels)),
                        Record.dossier_id.in_(lent.dossiers), Record.id.in_(lent.records))))
    page = fetch_page(work.session, query, tag=f"records:{dossier.id}",
                      order=[Record.created_at, Record.id], key=lambda r: (r.created_at, r.id),
                      limit=limit, cursor=cursor, descending=False)
    work.record(Event("record:list", "dossier", dossier_id, details={"count": len(page.items)}))
    return page


def _may_set_level(actor: Actor, record: Record, level: str) -> None:
    """A security level is set (from, or to) only by whom it would let read the content:
    no one lowers a record above their clearance, nor raises one out of their reach."""
    if not permits(actor, record.dossier.unit.path, Target(level=level), Action.RECORD_CONTENT):
        raise PermissionDenied(f"record {record.id}: setting its level from "
                               f"{record.security_level} to {level} needs the clearance of "
                               f"both, which {actor.username} does not hold")


def edit_record(work: Work, *, actor: Actor, record_id: str, changes: dict[str, object]
                ) -> Record:
    """Correct a record's catalogue metadata (title, type, document date, level). A new
    type or date moves its retention with it, never earlier
    (:func:`archive.services.retention.retention_after_edit`). The event keeps the before
    and after of what changed; the record is queued for the search index in the same
    transaction, so search shows the new metadata once it is committed (the caller indexes
    it then; the worker loop otherwise)."""
    session = work.session
    record = get_record(session, actor=actor, record_id=record_id, action=Action.RECORD_UPDATE)
    if record.destroyed_at is not None:
        raise Gone(f"record {record_id} was destroyed on {record.destroyed_at:%Y-%m-%d}; "
                   "its entry in the destruction register (销毁清册) is kept as it was")
    wanted = dict(changes)
    for name in ("title", "doc_type"):
        if name in wanted:
            value = str(wanted[name]).strip()
            if _controls(value):
                raise InvalidInput(f"{name} holds control characters")
            wanted[name] = value
    if "title" in wanted and not wanted["title"]:
        raise InvalidInput("title is required (at most 500 characters)")
    if "doc_type" in wanted and wanted["doc_type"] not in DOC_TYPES:
        raise InvalidInput(f"doc_type must be one of {'、'.join(DOC_TYPES)}")
    if "security_level" in wanted:
        if wanted["security_level"] not in SECURITY_LEVELS:
            raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
        if wanted["security_level"] != record.security_level:
            _may_set_level(actor, record, record.security_level)
            _may_set_level(actor, record, str(wanted["security_level"]))
    if wanted.keys() & {"doc_type", "doc_date"}:
        doc_type = str(wanted.get("doc_type", record.doc_type))
        doc_date = wanted.get("doc_date", record.doc_date)
        wanted["retention_period"], wanted["retain_until"] = retention_after_edit(
            record, period=period_for(session, doc_type),
            doc_date=doc_date if isinstance(doc_date, date) else None)
    before = {name: getattr(record, name) for name, value in wanted.items()
              if getattr(record, name) != value}
    after = {name: wanted[name] for name in before}
    for name, value in after.items():
        setattr(record, name, value)
    if after:
        enqueue(session, record.id)
    work.record(Event("record:update", "record", record_id, details={
        "before": mask_values(before), "after": mask_values(after)}))
    return record
