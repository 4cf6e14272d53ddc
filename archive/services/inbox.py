"""The inbox (待归档) and auto-filing: files imported without catalogue data.

An imported file is stored and checked like an upload, then read by an ingest job. From its
text the job takes the document type (the title on page 1: 用电申请书, 供用电合同, …), the
户号 and the document date; when the customer exists within the importer's unit, the record
is filed into the customer's dossier of that type's category (created with its 档号 if
missing). Otherwise the item waits, with the reason and the text read, until an archivist
files it by hand. Either way the OCR is done once: the pages travel with the item.

Public surface: :func:`accept_to_inbox`, :func:`read_catalogue`, :class:`Reading`,
:func:`settle`, :func:`file_item`, :func:`list_inbox`, :func:`get_item`,
:func:`copy_key`, :func:`open_item_copy`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import InboxItem, Job, Record, Unit, User
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.services.access import SECURITY_LEVELS, Actor, in_units, require_unit, units_for
from archive.services.accounts import actor_for
from archive.services.audit import Event, Trail
from archive.services.catalogue import DOC_TYPE_CATEGORIES, DOC_TYPES
from archive.services.filing import dossier_for, get_customer
from archive.services.indexing import enqueue
from archive.services.masking import known_values, shown_to
from archive.services.records import forget_original, page_rows, receive_original
from archive.services.retention import due_date, filing_date, period_for
from archive.services.work import Work
from archive.settings import ArchiveNumberSettings
from ingest import IngestSettings
from ingest.pipeline import PageText
from policies import Action, Authorizer, Decision, Target
from storage import ObjectStore

_ACCOUNT = re.compile(r"户\s*号\s*[:：]?\s*(\d{10})(?!\d)")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# "签订日期：2024年5月20日": the label says which date of the form is the document's own.
_LABELLED_DATE = re.compile(r"([^\s：:]{0,8}日期)\s*[:：]\s*" + _DATE.pattern)
# A form's own date first; a bare 日期 is the signature's; 受理/完成 come after it.
_DATE_LABELS = ("签订日期", "检查日期", "装拆日期", "申请日期", "日期", "受理日期", "完成日期")
_NOT_THE_DOCUMENT_DATE = ("预计", "投运", "有效", "到期", "截止")
# Longest first, so 违章用电及窃电处理记录 wins over any shorter type inside it.
_TYPES_BY_LENGTH = sorted((t for t in DOC_TYPES if t != "其他"), key=len, reverse=True)


@dataclass(frozen=True)
class Reading:
    """The catalogue fields read from a document's text (empty where not found)."""

    doc_type: str = ""
    account: str = ""
    doc_date: date | None = None
    title: str = ""


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def read_catalogue(pages: list[str]) -> Reading:
    """Document type from the title (the first lines of page 1), the 户号 and the first
    date of page 1 (falling back to later pages for the 户号)."""
    first = pages[0] if pages else ""
    head = [_compact(line) for line in first.splitlines() if line.strip()][:3]
    doc_type = next((t for line in head for t in _TYPES_BY_LENGTH if t in line), "")
    title = next((line for line in head if doc_type and doc_type in line), head[0] if head
                 else "")
    account = ""
    for page in pages:
        if match := _ACCOUNT.search(unicodedata.normalize("NFKC", page)):
            account = match.group(1)
            break
    return Reading(doc_type, account, _document_date(unicodedata.normalize("NFKC", first)),
                   title[:500])


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _document_date(text: str) -> date | None:
    """The date a labelled field gives (in the order of ``_DATE_LABELS``), else the first
    date on the page; planned and expiry dates are not the document's."""
    labelled = {}
    for label, *parts in _LABELLED_DATE.findall(text):
        label = re.sub(r"\s+", "", label)
        if not any(word in label for word in _NOT_THE_DOCUMENT_DATE):
            labelled.setdefault(label, _date(*parts))
    for wanted in _DATE_LABELS:
        if labelled.get(wanted):
            return labelled[wanted]
    return next((d for parts in _DATE.findall(text) if (d := _date(*parts))), None)


def accept_to_inbox(
    sessions: sessionmaker[Session], *, actor: Actor, stream: BinaryIO, filename: str,
    store: ObjectStore, ingest_settings: IngestSettings, max_bytes: int, spool_dir: Path,
    trail: Trail, security_level: str = "内部",
) -> tuple[InboxItem, Job]:
    """Store a file for auto-filing in the actor's unit; returns the item and its job."""
    if security_level not in SECURITY_LEVELS:
        raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
    received = receive_original(sessions, actor=actor, stream=stream, filename=filename,
                                store=store,
                                ingest_settings=ingest_settings, max_bytes=max_bytes,
                                spool_dir=spool_dir)
    try:
        with sessions.begin() as session:
            unit_id = session.scalar(select(Unit.id).where(Unit.code == actor.unit_code))
            item = InboxItem(unit_id=unit_id, created_by=actor.user_id, sha256=received.sha256,
                             size=received.size, media_type=received.media_type,
                             original_key=received.key, original_filename=received.filename,
                             page_count=received.page_count, security_level=security_level)
            session.add(item)
            session.flush()
            job = Job(inbox_id=item.id, kind="classify", status="queued")
            session.add(job)
            trail.record(session, Event("inbox:receive", "inbox", item.id, details={
                "sha256": received.sha256, "size": received.size,
                "filename": received.filename}))
    except Exception as exc:
        forget_original(sessions, store, received, exc, actor=actor)
        raise
    return item, job


def file_item(
    session: Session, item: InboxItem, *, actor: Actor, numbering: ArchiveNumberSettings,
    account: str, doc_type: str, title: str, doc_date: date | None, security_level: str,
) -> Record:
    """Make the item a record in its customer's dossier, with the pages already read."""
    if item.status == "filed":
        raise Conflict(f"inbox item {item.id} is already record {item.record_id}")
    if item.pages is None:
        raise Conflict(f"inbox item {item.id} has not been read yet")
    if doc_type not in DOC_TYPES:
        raise InvalidInput(f"doc_type must be one of {'、'.join(DOC_TYPES)}")
    if security_level not in SECURITY_LEVELS:
        raise InvalidInput(f"security_level must be one of {'、'.join(SECURITY_LEVELS)}")
    if not title.strip():
        raise InvalidInput("title is required")
    dossier = dossier_for(session, actor=actor, numbering=numbering, account=account,
                          category=DOC_TYPE_CATEGORIES[doc_type])
    pages = [PageText.from_dict(p) for p in json.loads(item.pages)]
    period = period_for(session, doc_type)
    record = Record(
        dossier_id=dossier.id, doc_type=doc_type, title=title.strip()[:500], doc_date=doc_date,
        security_level=security_level, retention_period=period,
        retain_until=due_date(period, doc_date, filing_date()), status="indexed",
        page_count=len(pages), sha256=item.sha256, size=item.size, media_type=item.media_type,
        original_key=item.original_key, access_key=item.access_key,
        original_filename=item.original_filename, created_by=item.created_by)
    session.add(record)
    session.flush()
    session.add_all(page_rows(record.id, pages, known_values(dossier.customer)))
    enqueue(session, record.id)
    item.status, item.record_id, item.reason = "filed", record.id, ""
    session.flush()
    return record


def settle(session: Session, item: InboxItem, pages: list[PageText], access_key: str | None,
           *, numbering: ArchiveNumberSettings, trail: Trail, authorizer: Authorizer
           ) -> Record | None:
    """After reading an item: file it if its text says where it belongs and the account
    that imported it may file there (the authorizer decides, as for a request of theirs),
    else leave it waiting with the reason. Returns the record filed, if any."""
    reading = read_catalogue([p.text for p in pages])
    item.pages = json.dumps([p.to_dict() for p in pages], ensure_ascii=False)
    item.access_key = access_key
    item.doc_type, item.account = reading.doc_type, reading.account
    item.doc_date, item.title = reading.doc_date, reading.title
    reasons = []
    if not reading.doc_type:
        reasons.append("文件类型 not recognised in the title")
    if not reading.account:
        reasons.append("no 户号 found in the text")
    creator = session.get(User, item.created_by)
    assert creator is not None
    actor = None
    try:
        actor = actor_for(session, creator.username, authorizer)
    except NotFound:
        reasons.append(f"the account that imported it ({creator.username}) is disabled")
    if actor is not None and reading.account:
        try:
            get_customer(session, actor=actor, account=reading.account,
                         action=Action.RECORD_CREATE)
        except (NotFound, PermissionDenied):
            # one answer for "no such customer" and "another unit's": no existence oracle
            reasons.append(f"customer {reading.account} is not in the archive of the units "
                           f"where {creator.username} files records")
    if reasons or actor is None:
        item.status, item.reason = "waiting", "; ".join(reasons)
        trail.record(session, Event("inbox:wait", "inbox", item.id,
                                    details={"reason": item.reason}), username="system")
        return None
    record = file_item(session, item, actor=actor, numbering=numbering,
                       account=reading.account, doc_type=reading.doc_type,
                       title=reading.title or reading.doc_type, doc_date=reading.doc_date,
                       security_level=item.security_level)
    trail.record(session, Event("record:create", "record", record.id, details={
        "inbox": item.id, "auto_filed": True, "sha256": item.sha256}), username="system")
    return record


def get_item(session: Session, *, actor: Actor, item_id: str) -> InboxItem:
    item = session.get(InboxItem, item_id)
    if item is None:
        raise NotFound(f"inbox item {item_id} not found")
    require_unit(actor, item.unit.path, f"inbox item {item_id}", Action.RECORD_CREATE)
    return item


def copy_key(item: InboxItem) -> str | None:
    """The object that shows the item's pages: its access copy (searchable PDF), or a
    born-digital PDF's original, which is its own; None when it has neither."""
    if item.access_key:
        return item.access_key
    return item.original_key if item.media_type == "application/pdf" else None


def _may_see_pages(actor: Actor, item: InboxItem) -> None:
    """The pages of an item are content: a clearance at or above the item's level, and,
    since they cannot be shown masked, the personal-information clearance."""
    decision = actor.authorizer.decide(actor.subject, item.unit.path,
                                       Target(level=item.security_level),
                                       Action.RECORD_CONTENT)
    if decision is not Decision.ALLOW:
        raise PermissionDenied(
            f"密级不足，不能查看此待归档文件的页面: inbox item {item.id} is "
            f"{item.security_level}, above the clearance of {actor.username}")
    if not shown_to(actor, item.unit.path).personal:
        # A masked copy is a record's (ensure_masked_copy): it masks by the customer's
        # known values and the stored spans of its pages, and is kept under the record's
        # sha256; an item has no customer yet, and a copy made for it would be an orphan.
        raise PermissionDenied(
            f"无个人信息查看权限，不能查看待归档文件的页面图像（页面未脱敏，文字预览已脱敏）: "
            f"the pages of inbox item {item.id} are shown unmasked only to those who may see "
            f"personal information, which {actor.username} may not; no masked copy of an "
            "inbox item exists, read its masked text preview, or the record's access copy "
            "once it is filed")


def list_inbox(session: Session, *, actor: Actor, status: str | None = "waiting",
               limit: int = 200) -> list[InboxItem]:
    """Items of the units where the actor may file records, oldest first."""
    query = (select(InboxItem).join(Unit, Unit.id == InboxItem.unit_id)
             .where(in_units(Unit.path, units_for(actor, Action.RECORD_CREATE))))
    if status:
        query = query.where(InboxItem.status == status)
    return list(session.scalars(query.order_by(InboxItem.created_at).limit(limit)))


# The operations of the API, each recording its audit event in the caller's unit of work.

def waiting_items(work: Work, *, actor: Actor, status: str | None) -> list[InboxItem]:
    items = list_inbox(work.session, actor=actor, status=status)
    work.record(Event("inbox:list", "inbox", "",
                      details={"status": status, "count": len(items)}))
    return items


def open_item_copy(work: Work, *, actor: Actor, item_id: str) -> tuple[InboxItem, str]:
    """The item and the key of its copy, once the actor may see its pages and the read is
    audited (``inbox:access-copy``): an item of the units where they file (else answered
    as :func:`get_item` answers), within their clearance and with the personal-information
    clearance (403), read and still waiting, with a copy to show (409 otherwise)."""
    item = get_item(work.session, actor=actor, item_id=item_id)
    _may_see_pages(actor, item)
    if item.status == "filed":
        raise Conflict(f"此文件已归档: inbox item {item_id} is filed as record "
                       f"{item.record_id}; read its pages there (records/{item.record_id}/"
                       "access-copy)")
    if item.status == "failed":
        raise Conflict(f"此文件识别失败，暂无页面图像: inbox item {item_id} could not be read; "
                       "its job can be retried")
    if item.status != "waiting" or item.pages is None:
        raise Conflict(f"此文件尚未识别完成，暂无页面图像: inbox item {item_id} has not been "
                       f"read (status {item.status}); its pages show once it is read")
    key = copy_key(item)
    if key is None:
        raise Conflict(f"此文件没有可供预览的页面图像: inbox item {item_id} has no access copy")
    work.record(Event("inbox:access-copy", "inbox", item_id))
    return item, key


def file_waiting(work: Work, item: InboxItem, *, actor: Actor,
                 numbering: ArchiveNumberSettings, **fields: object) -> Record:
    """:func:`file_item`, audited as the record's creation."""
    record = file_item(work.session, item, actor=actor, numbering=numbering,
                       **fields)  # type: ignore[arg-type]
    work.record(Event("record:create", "record", record.id, details={
        "inbox": item.id, "auto_filed": False, "sha256": item.sha256}))
    return record
