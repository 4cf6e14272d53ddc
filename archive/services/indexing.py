"""Keep the search index in step with the database (the index is derived, never primary).

Public surface: :func:`search_document`, :func:`index_record`, :func:`rebuild_index`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Page, Record
from archive.services.records import record_pages
from search import SearchBackend, SearchDocument


def search_document(record: Record, pages: list[Page]) -> SearchDocument:
    dossier = record.dossier
    customer = dossier.customer
    return SearchDocument(
        record_id=record.id, dossier_id=dossier.id, customer_account=customer.account,
        customer_name=customer.name, doc_type=record.doc_type, category=dossier.category,
        title=record.title, doc_date=record.doc_date, unit=dossier.unit.code,
        unit_path=dossier.unit.path, security_level=record.security_level,
        address=customer.address, pages=tuple((p.number, p.text) for p in pages),
    )


def index_record(session: Session, search: SearchBackend, record_id: str) -> None:
    record = session.get(Record, record_id)
    if record is None:
        search.delete([record_id])
        return
    search.index([search_document(record, record_pages(session, record))])
    search.refresh()


def _all_documents(sessions: sessionmaker[Session]) -> Iterator[SearchDocument]:
    with sessions() as session:
        ids = list(session.scalars(select(Record.id).where(Record.status == "indexed")
                                   .order_by(Record.created_at)))
        for record_id in ids:
            record = session.get(Record, record_id)
            if record is None:
                continue
            yield search_document(record, record_pages(session, record))
            session.expunge_all()


def rebuild_index(sessions: sessionmaker[Session], search: SearchBackend) -> int:
    count = search.rebuild(_all_documents(sessions))
    search.refresh()
    return count
