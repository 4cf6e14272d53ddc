"""Access copies (利用件) as each reader may see them.

The access copy made at ingest is a searchable PDF of the original (a born-digital PDF is
its own). A reader who may not see personal information gets another copy instead
whenever the record holds any, or any page comes from the original PDF as it is (a PDF
carries more than its visible text: metadata, annotations, hidden text): its invisible
text layer masked line by line, its text-layer pages drawn as images, the personal
characters painted over on those and on the scans
(:func:`ingest.access_copy.write_access_copy` with ``mask``). That copy is made by the
ingest job once the record is filed, or on the first request that needs it, and kept under
a key derived from the original, the customer's known values and the detector's version,
so a change to any of them makes a new one.

Public surface: :func:`masked_copy_key`, :func:`holds_personal`, :func:`needs_masked_copy`,
:func:`ensure_masked_copy`, :func:`masked_copy_keys`.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from archive.db.models import Record
from archive.errors import storage_failure
from archive.services.masking import known_values, page_spans
from archive.services.records import record_pages
from ingest import IngestSettings
from ingest.pipeline import PageLayout, PageText
from search.personal import VERSION, find_personal, mask
from storage import ObjectStore, StorageError


def _prefix(record: Record) -> str:
    return f"access/{record.sha256[:2]}/{record.sha256}.masked-"


def masked_copy_key(record: Record) -> str:
    known = known_values(record.dossier.customer)
    fingerprint = hashlib.sha256(json.dumps([VERSION, list(known)]).encode()).hexdigest()
    return f"{_prefix(record)}{fingerprint[:16]}.pdf"


def masked_copy_keys(store: ObjectStore, record: Record) -> list[str]:
    """Every masked copy kept of the record (older ones included), to remove with it."""
    return [key for key in store.keys(f"access/{record.sha256[:2]}/")
            if key.startswith(_prefix(record))]


def holds_personal(session: Session, record: Record) -> bool:
    known = known_values(record.dossier.customer)
    return any(page_spans(page, known) for page in record_pages(session, record))


def needs_masked_copy(session: Session, record: Record) -> bool:
    """Whether readers without the clearance need a copy of their own: the record holds
    personal information, or a page of it comes from the original PDF as it is (a text
    layer page, with whatever its metadata, annotations and hidden text hold)."""
    if record.access_key is None:
        return True
    return holds_personal(session, record) or any(
        page.source == "text-layer" for page in record_pages(session, record))


def ensure_masked_copy(session: Session, store: ObjectStore, record: Record, *,
                       settings: IngestSettings, spool_dir: Path) -> str:
    """The key of the record's masked copy, made now if it is not there yet."""
    key = masked_copy_key(record)
    try:
        if store.exists(key):
            return key
        known = known_values(record.dossier.customer)
        pages = [PageText(p.number, p.text, p.source, p.confidence,
                          PageLayout.from_dict(json.loads(p.layout)) if p.layout else None)
                 for p in record_pages(session, record)]
        spool_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=spool_dir) as tmp:
            original, target = Path(tmp) / "original", Path(tmp) / "masked.pdf"
            with store.get(record.original_key) as source, open(original, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
            from ingest.access_copy import write_access_copy

            write_access_copy(original, pages, settings, target,
                              mask=lambda line: mask(line, find_personal(line, known)))
            with open(target, "rb") as stream:
                store.put(key, stream, content_type="application/pdf")
    except StorageError as exc:
        raise storage_failure(exc) from exc
    return key
