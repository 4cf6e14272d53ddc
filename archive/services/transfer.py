"""Transfer (移交): a dossier or a selection of records as a package another archive can
check, and the record of its handover.

The package is a BagIt bag (RFC 8493, written by the Library of Congress ``bagit``
library), zipped::

    bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    data/originals/<档号>/<record id><ext>       the originals, byte for byte
    data/access/<档号>/<record id>.pdf            the searchable access copies
    data/metadata/catalogue.json, catalogue.csv  the catalogue entries (中文 headings)

Each original is hashed again while it is copied and must match the sha256 recorded at
filing, so a corrupted object is never handed over. The zip is kept in object storage under
``transfers/``; the receiver validates the bag (``archive transfer check``) and the archivist
records the result, which closes the handover.

Public surface: :func:`export`, :func:`record_receipt`, :func:`check_package`,
:func:`forget_package`, :func:`get_transfer`, :func:`open_package`, :func:`list_transfers`,
:func:`transferred_ids`, :class:`PackageCheck`, ``CATALOGUE_FIELDS``.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Record, Transfer
from archive.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    storage_failure,
)
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.audit import Event
from archive.services.filing import get_dossier
from archive.services.masking import shown_to
from archive.services.paging import Page, fetch_page
from archive.services.records import get_record, record_target
from archive.services.spreadsheet import write_csv
from archive.services.work import Work
from archive.spool import scratch
from policies import Action
from storage import HashingReader, ObjectStore, StorageError

log = logging.getLogger(__name__)

MAX_ITEMS = 2000
CATALOGUE_FIELDS = (
    ("record_id", "文件编号"), ("archive_number", "档号"), ("customer_account", "户号"),
    ("customer_name", "户名"), ("category", "分类"), ("doc_type", "文件类型"), ("title", "题名"),
    ("doc_date", "文件日期"), ("security_level", "密级"), ("retention_period", "保管期限"),
    ("retain_until", "到期日"), ("page_count", "页数"), ("sha256", "原件SHA-256"),
    ("size", "字节数"), ("media_type", "格式"), ("original", "原件路径"),
    ("access_copy", "利用件路径"),
)


def _records(session: Session, actor: Actor, record_ids: list[str] | None,
             dossier_id: str | None) -> list[Record]:
    if (record_ids is None) == (dossier_id is None):
        raise InvalidInput("give either record_ids or dossier_id")
    if dossier_id is not None:
        dossier = get_dossier(session, actor=actor, dossier_id=dossier_id,
                              action=Action.TRANSFER_CREATE)
        records = [r for r in dossier.records if r.destroyed_at is None]
    else:
        assert record_ids is not None
        unique = list(dict.fromkeys(record_ids))
        if not unique or len(unique) > MAX_ITEMS:
            raise InvalidInput(f"give between 1 and {MAX_ITEMS} record ids")
        records = [get_record(session, actor=actor, record_id=r, action=Action.TRANSFER_CREATE)
                   for r in unique]
    for record in records:
        # A package carries content: each record as if the actor read it (unit, clearance).
        require_unit(actor, record.dossier.unit.path, f"record {record.id}", Action.RECORD_CONTENT,
                     record_target(record))
        _require_personal(actor, record)
        if record.destroyed_at is not None:
            raise Conflict(f"record {record.id} was destroyed and cannot be transferred")
        if record.status != "indexed":
            raise Conflict(f"record {record.id} is still being read (status {record.status})")
    if not records:
        raise InvalidInput("nothing to transfer: the dossier holds no records")
    if len({r.dossier.unit.path for r in records}) > 1:
        raise InvalidInput("a transfer holds the records of one unit; make one per unit")
    return records


def _require_personal(actor: Actor, record: Record) -> None:
    """A package carries originals, which cannot be masked: it goes only with an actor who
    may see personal information."""
    if not shown_to(actor, record.dossier.unit.path).personal:
        raise PermissionDenied(f"原件不脱敏: a package carries the original of record "
                               f"{record.id}, which goes only to those who may see personal "
                               f"information, and {actor.username} may not")


def _suffix(record: Record) -> str:
    name_suffix = Path(record.original_filename).suffix.lower()
    if name_suffix and name_suffix[1:].isalnum() and len(name_suffix) <= 6:
        return name_suffix
    return mimetypes.guess_extension(record.media_type) or ".bin"


def _copy(store: ObjectStore, key: str, target: Path, expected: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with store.get(key) as stream, open(target, "wb") as out:
            reader = HashingReader(stream)
            while chunk := reader.read(1024 * 1024):
                out.write(chunk)
    except StorageError as exc:
        raise storage_failure(exc) from exc
    if expected is not None and reader.hexdigest != expected:
        raise Conflict(f"{key} no longer matches its recorded sha256; run `archive verify` "
                       "before transferring")


def _catalogue_row(record: Record, original: str, access: str) -> dict[str, object]:
    dossier = record.dossier
    return {
        "record_id": record.id, "archive_number": dossier.archive_number,
        "customer_account": dossier.customer.account, "customer_name": dossier.customer.name,
        "category": dossier.category, "doc_type": record.doc_type, "title": record.title,
        "doc_date": record.doc_date.isoformat() if record.doc_date else "",
        "security_level": record.security_level, "retention_period": record.retention_period,
        "retain_until": record.retain_until.isoformat() if record.retain_until else "",
        "page_count": record.page_count, "sha256": record.sha256, "size": record.size,
        "media_type": record.media_type, "original": original, "access_copy": access,
    }


def _write_metadata(folder: Path, rows: list[dict[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.json").write_text(
        json.dumps({"records": rows}, ensure_ascii=False, indent=2), encoding="utf-8")
    with open(folder / "catalogue.csv", "w", encoding="utf-8", newline="") as out:
        write_csv(out, [label for _, label in CATALOGUE_FIELDS],
                  ([row[name] for name, _ in CATALOGUE_FIELDS] for row in rows))


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())


def export(work: Work, *, actor: Actor, store: ObjectStore, receiver: str,
           record_ids: list[str] | None = None, dossier_id: str | None = None,
           now: datetime, spool_dir: Path) -> Transfer:
    """Build the package, keep it in storage and record the transfer, audited; if the unit
    of work is not committed, the package is removed again."""
    session = work.session
    receiver = receiver.strip()
    if not receiver or len(receiver) > 200:
        raise InvalidInput("receiver (接收单位) is required, at most 200 characters")
    records = _records(session, actor, record_ids, dossier_id)
    transfer = Transfer(sender=actor.username, receiver=receiver, created_at=now,
                        unit_path=records[0].dossier.unit.path,
                        items=json.dumps([r.id for r in records]), package_key="",
                        package_sha256="", package_size=0, status="exported")
    session.add(transfer)
    session.flush()
    with scratch(spool_dir) as tmp:
        bag = Path(tmp) / f"transfer-{transfer.id}"
        rows = []
        for record in records:
            number = record.dossier.archive_number.replace("·", "-")
            original = f"originals/{number}/{record.id}{_suffix(record)}"
            _copy(store, record.original_key, bag / original, record.sha256)
            access = ""
            if record.access_key:
                access = f"access/{number}/{record.id}.pdf"
                _copy(store, record.access_key, bag / access, None)
            rows.append(_catalogue_row(record, f"data/{original}",
                                       f"data/{access}" if access else ""))
        _write_metadata(bag / "metadata", rows)
        bagit.make_bag(str(bag), {
            "Source-Organization": records[0].dossier.unit.name,
            "Contact-Name": actor.username,
            "External-Identifier": transfer.id,
            "External-Description": f"移交 {len(records)} 件 to {receiver}",
            "Bagging-Date": now.date().isoformat(),
        }, checksums=["sha256"])
        package = Path(tmp) / "package.zip"
        _zip(bag, package)
        key = f"transfers/{transfer.id}.zip"
        try:
            with open(package, "rb") as stream:
                info = store.put(key, stream, content_type="application/zip")
        except StorageError as exc:
            raise storage_failure(exc) from exc
    transfer.package_key, transfer.package_sha256 = key, info.sha256
    transfer.package_size = info.size
    # no transfer recorded: its package must not stay behind
    work.unless_committed(lambda: forget_package(store, key))
    session.flush()
    work.record(Event("transfer:create", "transfer", transfer.id,
                      details={"receiver": transfer.receiver, "items": transferred_ids(transfer),
                      "package_sha256": transfer.package_sha256}))
    return transfer


def forget_package(store: ObjectStore, key: str) -> None:
    """Remove a package whose transfer was not recorded (best effort, logged)."""
    try:
        store.delete(key)
    except StorageError:
        log.warning("could not remove the unrecorded package %s; remove it by hand", key,
                    exc_info=True)


def get_transfer(session: Session, *, actor: Actor, transfer_id: str,
                 action: str = Action.TRANSFER_READ) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(f"transfer {transfer_id} not found")
    require_unit(actor, transfer.unit_path, f"transfer {transfer_id}", action)
    return transfer


def open_package(work: Work, *, actor: Actor, transfer_id: str) -> Transfer:
    """The transfer whose package the actor may download: each of its records' content as
    if they read it (unit and clearance); gone once one of them was destroyed."""
    session = work.session
    transfer = get_transfer(session, actor=actor, transfer_id=transfer_id)
    for record in session.scalars(select(Record).where(
            Record.id.in_(transferred_ids(transfer)))):
        require_unit(actor, record.dossier.unit.path, f"record {record.id}", Action.RECORD_CONTENT,
                     record_target(record))
        if record.destroyed_at is None:
            _require_personal(actor, record)
    if not transfer.package_key:
        raise Gone(f"the package of transfer {transfer_id} was removed: a record in it was "
                   "destroyed")
    work.record(Event("transfer:download", "transfer", transfer_id))
    return transfer


def list_transfers(work: Work, *, actor: Actor, limit: int, cursor: str | None
                   ) -> Page[Transfer]:
    """The transfers of the actor's units, newest first."""
    query = select(Transfer).where(in_units(Transfer.unit_path,
                                            units_for(actor, Action.TRANSFER_READ)))
    page = fetch_page(work.session, query, tag="transfers",
                      order=[Transfer.created_at, Transfer.id],
                      key=lambda t: (t.created_at, t.id), limit=limit, cursor=cursor)
    work.record(Event("transfer:list", "transfer", "", details={"count": len(page.items)}))
    return page


def record_receipt(work: Work, *, actor: Actor, transfer_id: str, valid: bool,
                   detail: str, now: datetime) -> Transfer:
    """The receiver's integrity check, as reported back: closes the handover."""
    session = work.session
    transfer = get_transfer(session, actor=actor, transfer_id=transfer_id,
                            action=Action.TRANSFER_CREATE)
    if transfer.status != "exported":
        raise Conflict(f"transfer {transfer_id} was already {transfer.status}")
    transfer.status = "accepted" if valid else "refused"
    transfer.check_result = detail.strip()[:2000] or ("valid" if valid else "invalid")
    transfer.checked_at = now
    session.flush()
    work.record(Event("transfer:receipt", "transfer", transfer_id,
                      details={"valid": valid, "detail": transfer.check_result}))
    return transfer


@dataclass(frozen=True)
class PackageCheck:
    valid: bool
    detail: str
    files: int = 0


def check_package(path: Path) -> PackageCheck:
    """Validate a bag, a folder or its zip, as the receiving archive does: every payload
    file present and matching its sha256 in the manifest, nothing added."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = path
        if path.is_file():
            try:
                with zipfile.ZipFile(path) as archive:
                    _safe_extract(archive, Path(tmp))
            # a hostile zip: names that clash, "." as a member, an unknown compression,
            # encryption: all are answers, not crashes
            except (zipfile.BadZipFile, InvalidInput, OSError, NotImplementedError,
                    RuntimeError, ValueError, EOFError) as exc:
                return PackageCheck(False, f"not a readable package: {exc}")
            tops = [p for p in Path(tmp).iterdir() if p.is_dir()]
            if len(tops) != 1:
                return PackageCheck(False, "the zip does not hold exactly one bag folder")
            folder = tops[0]
        try:
            bag = bagit.Bag(str(folder))
            bag.validate()
        except bagit.BagValidationError as exc:
            problems = "; ".join(str(d) for d in getattr(exc, "details", [])[:5])
            return PackageCheck(False, f"{exc.message}: {problems}" if problems
                                else str(exc.message))
        except bagit.BagError as exc:
            return PackageCheck(False, str(exc))
        version = ".".join(map(str, bag.version_info))
        return PackageCheck(True, f"valid BagIt {version}, {len(bag.payload_entries())} "
                            "payload files match manifest-sha256", len(bag.payload_entries()))


# what a received package may unpack to: a transfer of records, not a zip bomb
MAX_MEMBERS = 200_000
MAX_RATIO = 100  # uncompressed / compressed, for members over a megabyte (scans barely shrink)
MAX_UNPACKED = 64 * 1024**3


def _safe_extract(archive: zipfile.ZipFile, target: Path) -> None:
    """Unpack a received zip, refusing before anything is written a path outside the bag,
    too many members, a size beyond :data:`MAX_UNPACKED` or the disk's free half, or a
    member compressed beyond :data:`MAX_RATIO`; and while writing, a member longer than
    it said it was."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise InvalidInput(f"the zip holds {len(members)} members (at most {MAX_MEMBERS})")
    limit = min(MAX_UNPACKED, shutil.disk_usage(target).free // 2)
    total = 0
    for member in members:
        destination = (target / member.filename).resolve()
        if not destination.is_relative_to(target.resolve()):
            raise InvalidInput(f"the zip holds a path outside the bag: {member.filename}")
        ratio = member.file_size // max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            raise InvalidInput(f"{member.filename} is compressed {ratio}:1, beyond "
                               f"{MAX_RATIO}:1 (a zip bomb?)")
        total += member.file_size
    packed = sum(member.compress_size for member in members)
    if total > 1024 * 1024 and total > MAX_RATIO * max(packed, 1):
        raise InvalidInput(f"the zip unpacks {total // max(packed, 1)}:1 in all, beyond "
                           f"{MAX_RATIO}:1 (a zip bomb?)")
    if total > limit:
        raise InvalidInput(f"the zip unpacks to {total} bytes, more than {limit} allowed here")
    for member in members:
        destination = (target / member.filename).resolve()
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with archive.open(member) as source, open(destination, "wb") as out:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > member.file_size:
                    raise InvalidInput(f"{member.filename} is longer than the zip says")
                out.write(chunk)


def transferred_ids(transfer: Transfer) -> list[str]:
    return list(json.loads(transfer.items))


def read_transfer(work: Work, *, actor: Actor, transfer_id: str) -> Transfer:
    transfer = get_transfer(work.session, actor=actor, transfer_id=transfer_id)
    work.record(Event("transfer:read", "transfer", transfer_id))
    return transfer
