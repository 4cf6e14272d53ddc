"""Keep the search index in step with the database (the index is derived, never primary).

Every change to what a record shows in search writes an outbox row in the change's own
transaction (:func:`enqueue`). The indexer (:func:`drain_outbox`, run by the job workers)
reads each queued record as it is at that moment, indexes it (or deletes it from the index
when it is gone or not yet read) and deletes the rows only once the backend took the batch.
So an upload succeeds while the search backend is down, and the index catches up when it
returns; a crash between the two steps only indexes a record twice. A record the backend
refuses (not an outage: this record's fault) goes to the dead-letter list
(:class:`archive.db.models.IndexRefusal`) with its reason, and the rest go on.

Public surface: :func:`search_document`, :func:`enqueue`, :func:`drain_outbox`,
:func:`index_pending`, :func:`index_soon`, :func:`outbox_size`, :func:`rebuild_index`,
:func:`check_index`, :class:`Drift`, :func:`refusals`, :func:`retry_refused`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import IndexOutbox, IndexRefusal, Lease, Page, Record, utcnow
from archive.services.masking import known_values, page_spans
from search import DocumentsRefused, SearchBackend, SearchDocument, SearchError, SearchPage

log = logging.getLogger(__name__)

LEASE = "search-index"
LEASE_TIME = timedelta(seconds=60)
BATCH = 500


def search_document(record: Record, pages: list[Page]) -> SearchDocument:
    dossier = record.dossier
    customer = dossier.customer
    known = known_values(customer)
    return SearchDocument(
        record_id=record.id, dossier_id=dossier.id, customer_account=customer.account,
        customer_name=customer.name, doc_type=record.doc_type, category=dossier.category,
        title=record.title, doc_date=record.doc_date, unit=dossier.unit.code,
        unit_path=dossier.unit.path, security_level=record.security_level,
        address=customer.address, customer_class=customer.customer_class,
        pages=tuple(SearchPage(p.number, p.text, page_spans(p, known)) for p in pages),
    )


def enqueue(session: Session, *record_ids: str) -> None:
    """Queue records for (re)indexing, in the caller's transaction."""
    session.add_all(IndexOutbox(record_id=record_id) for record_id in record_ids)


def outbox_size(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(IndexOutbox)) or 0


def refusals(session: Session, record_ids: list[str] | None = None) -> list[IndexRefusal]:
    """The dead-letter list (of these records), newest first."""
    query = select(IndexRefusal).order_by(IndexRefusal.refused_at.desc())
    if record_ids is not None:
        query = query.where(IndexRefusal.record_id.in_(record_ids))
    return list(session.scalars(query))


def retry_refused(session: Session) -> int:
    """Queue every refused record again (after a fix); returns how many."""
    ids = list(session.scalars(select(IndexRefusal.record_id)))
    enqueue(session, *ids)
    return len(ids)


def _note_refusals(session: Session, taken: list[str], refused: dict[str, str]) -> None:
    """Take the records indexed now off the dead-letter list and put the refused on it."""
    if taken:
        session.execute(delete(IndexRefusal).where(IndexRefusal.record_id.in_(taken)))
    for record_id, reason in refused.items():
        known = session.get(IndexRefusal, record_id)
        if known is None:
            session.add(IndexRefusal(record_id=record_id, reason=reason))
        else:
            known.reason, known.attempts, known.refused_at = (reason, known.attempts + 1,
                                                              utcnow())
        log.error("search index refused record %s: %s", record_id, reason)


def _index(search: SearchBackend, documents: list[SearchDocument]) -> dict[str, str]:
    """Index the documents; the ones refused, with why. An outage raises."""
    try:
        search.index(documents)
    except DocumentsRefused as exc:
        return exc.reasons
    return {}


def _take_lease(sessions: sessionmaker[Session], holder: str) -> bool:
    now = utcnow()
    with sessions.begin() as session:
        taken = session.execute(
            update(Lease).where(Lease.name == LEASE,
                                or_(Lease.until.is_(None), Lease.until < now,
                                    Lease.holder == holder))
            .values(holder=holder, until=now + LEASE_TIME)).rowcount
        if taken or session.get(Lease, LEASE) is not None:
            return bool(taken)
    try:
        with sessions.begin() as session:
            session.execute(insert(Lease).values(name=LEASE, holder=holder,
                                                 until=now + LEASE_TIME))
    except IntegrityError:  # another indexer made it first and holds it
        return False
    return True


def _release_lease(sessions: sessionmaker[Session], holder: str) -> None:
    with sessions.begin() as session:
        session.execute(update(Lease).where(Lease.name == LEASE, Lease.holder == holder)
                        .values(until=None))


def _documents(session: Session, record_ids: list[str]
               ) -> tuple[list[SearchDocument], list[str]]:
    """The search documents of the records that are read and filed; the other ids."""
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    pages: dict[str, list[Page]] = defaultdict(list)
    for page in session.scalars(select(Page).where(Page.record_id.in_(record_ids))
                                .order_by(Page.record_id, Page.number)):
        pages[page.record_id].append(page)
    documents, gone = [], []
    for record_id in record_ids:
        record = records.get(record_id)
        if record is not None and record.status == "indexed":
            documents.append(search_document(record, pages[record_id]))
        else:
            gone.append(record_id)
    return documents, gone


def drain_outbox(sessions: sessionmaker[Session], search: SearchBackend, *, holder: str,
                 batch: int = BATCH, batches: int | None = None) -> int:
    """Bring every queued record into the index; returns how many were sent.

    Only one indexer drains at a time (a lease in the database), so an older version of a
    record never overwrites a newer one. Raises :class:`search.SearchError` (the rows stay
    queued) when the backend refuses; another caller is draining: returns 0. ``batches``
    bounds the work done in one call.
    """
    with sessions() as session:
        if session.scalar(select(IndexOutbox.id).limit(1)) is None:
            return 0
    if not _take_lease(sessions, holder):
        return 0
    sent = 0
    try:
        for _ in itertools.count() if batches is None else range(batches):
            with sessions() as session:
                rows = session.execute(select(IndexOutbox.id, IndexOutbox.record_id)
                                       .order_by(IndexOutbox.id).limit(batch)).all()
                if not rows:
                    return sent
                record_ids = list(dict.fromkeys(row.record_id for row in rows))
                documents, gone = _documents(session, record_ids)
            refused = _index(search, documents) if documents else {}
            if gone:
                search.delete(gone)
            search.refresh()
            with sessions.begin() as session:
                session.execute(delete(IndexOutbox)
                                .where(IndexOutbox.id.in_([row.id for row in rows])))
                _note_refusals(session, [r for r in record_ids if r not in refused], refused)
                session.execute(update(Lease).where(Lease.name == LEASE,
                                                    Lease.holder == holder)
                                .values(until=utcnow() + LEASE_TIME))
            sent += len(record_ids)
        return sent
    finally:
        _release_lease(sessions, holder)


def index_pending(sessions: sessionmaker[Session], search: SearchBackend, *, holder: str,
                  batches: int | None = None) -> bool:
    """:func:`drain_outbox`, where a backend outage is logged, not raised: the changes stay
    queued for the next call. Returns whether the backend took them."""
    try:
        drain_outbox(sessions, search, holder=holder, batches=batches)
    except SearchError as exc:
        log.warning("search index behind, changes kept in the outbox: %s", exc)
        return False
    return True


def index_soon(sessions: sessionmaker[Session], search: SearchBackend, *, holder: str) -> None:
    """Index a change just committed (one batch), so it is found at once. The change is
    safe in the outbox already: if this fails (backend or database away), the worker loop
    indexes it later, and the caller's work stands all the same."""
    try:
        index_pending(sessions, search, holder=holder, batches=1)
    except Exception:  # the outbox keeps the change; see above
        log.warning("indexing deferred to the worker loop", exc_info=True)


Progress = Callable[[int, int], None]  # (records read, records in all)


def _all_documents(sessions: sessionmaker[Session], holder: str | None = None,
                   progress: Progress | None = None) -> Iterator[SearchDocument]:
    """Every filed record's document, read in batches (renewing ``holder``'s lease)."""
    with sessions() as session:
        ids = list(session.scalars(select(Record.id).where(Record.status == "indexed")
                                   .order_by(Record.created_at)))
    for start in range(0, len(ids), BATCH):
        if holder is not None and not _take_lease(sessions, holder):
            raise SearchError("the indexer lease was lost during the rebuild")
        with sessions() as session:
            documents, _ = _documents(session, ids[start:start + BATCH])
        yield from documents
        if progress is not None:
            progress(min(start + BATCH, len(ids)), len(ids))


def rebuild_index(sessions: sessionmaker[Session], search: SearchBackend, *, holder: str,
                  wait: float = 2 * LEASE_TIME.total_seconds(),
                  progress: Progress | None = None) -> int:
    """A fresh index from the database, swapped in whole (searches go on meanwhile).

    The rebuild holds the indexer lease, so changes made meanwhile wait in the outbox
    rather than going to the index about to be replaced; they are drained into the new
    index after the swap.
    """
    deadline = time.monotonic() + wait
    while not _take_lease(sessions, holder):
        if time.monotonic() > deadline:
            raise SearchError("another indexer holds the lease; try again later")
        time.sleep(0.5)
    try:
        try:
            count, refused = search.rebuild(_all_documents(sessions, holder, progress)), {}
        except DocumentsRefused as exc:
            count, refused = exc.indexed, exc.reasons
        search.refresh()
        with sessions.begin() as session:  # the list as this rebuild found it
            session.execute(delete(IndexRefusal))
            _note_refusals(session, [], refused)
    finally:
        _release_lease(sessions, holder)
    drain_outbox(sessions, search, holder=holder)
    return count


@dataclass(frozen=True)
class Drift:
    """How the index differs from the database."""

    missing: tuple[str, ...]  # filed records not in the index
    extra: tuple[str, ...]  # index entries with no filed record
    stale: tuple[str, ...]  # entries whose content differs from the record's
    queued: int  # outbox rows not yet drained (they explain drift that is about to close)
    refused: tuple[str, ...] = ()  # records on the dead-letter list (missing or stale)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check_index(sessions: sessionmaker[Session], search: SearchBackend,
                progress: Progress | None = None) -> Drift:
    """Compare every filed record with its index entry, by content digest."""
    indexed = dict(search.digests())
    expected = {doc.record_id: doc.digest
                for doc in _all_documents(sessions, progress=progress)}
    with sessions() as session:
        queued = outbox_size(session)
        refused = tuple(sorted(r.record_id for r in refusals(session)))
    return Drift(
        missing=tuple(sorted(expected.keys() - indexed.keys())),
        extra=tuple(sorted(indexed.keys() - expected.keys())),
        stale=tuple(sorted(rid for rid in expected.keys() & indexed.keys()
                           if expected[rid] != indexed[rid])),
        queued=queued, refused=refused,
    )
