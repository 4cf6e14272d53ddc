"""Retention (保管期限): the schedule of periods per record type, each record's due date,
and the WORM lock that keeps its original until then.

A record's period is taken from the schedule when it is filed; editing the schedule changes
what later filings get, not the records already appraised (those change through
disposition, :mod:`archive.services.disposition`). The due date is 1 January of the year
after the document date plus the period; a permanent (永久) record has none.

Public surface: :func:`due_date`, :func:`period_for`, :func:`retention_after_edit`,
:func:`filed_on`, :func:`list_schedule`,
:func:`edit_schedule`, :func:`require_company_wide`, :func:`protect_original`,
:func:`protect_record`, :func:`filing_date`, ``PERIODS``, ``CHINA``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Record, RetentionSchedule, Unit, utcnow
from archive.errors import InvalidInput, NotFound, PermissionDenied
from archive.services.access import Actor, units_for
from archive.services.audit import Event, Trail
from archive.services.catalogue import DOC_TYPES, RETENTION_CODES, RETENTION_YEARS
from archive.services.work import Work
from storage import ObjectStore, StorageError

log = logging.getLogger(__name__)

PERIODS = tuple(RETENTION_CODES)  # Y, D30, D10
# Dates of the archive's year are China's (UTC+8 all year, no summer time): a document
# without a date, filed at 07:00 on 1 January in Hangzhou, belongs to the new year.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def filing_date() -> date:
    """Today in China: the year a document without its own date is counted from."""
    return datetime.now(CHINA).date()
MAX_REASON = 1000


def due_date(period: str, doc_date: date | None, filed: date) -> date | None:
    """1 January of the year after the document date (the filing date without one) plus
    the period; None for a permanent record."""
    years = RETENTION_YEARS[period]
    if years is None:
        return None
    return date((doc_date or filed).year + 1 + years, 1, 1)


def filed_on(record: Record) -> date:
    """The day (in China) the record was filed: the year a record without a date counts
    from."""
    created = record.created_at
    if created.tzinfo is None:  # SQLite hands back UTC without its offset
        created = created.replace(tzinfo=UTC)
    return created.astimezone(CHINA).date()


def retention_after_edit(record: Record, *, period: str, doc_date: date | None
                         ) -> tuple[str, date | None]:
    """The (period, due date) of a record whose type or date was corrected, the type's
    period now being ``period``: the later of what it had and what the correction gives.
    An edit never brings a destruction nearer (a shorter period is appraisal's to decide,
    with a second approver; the original's WORM lock only ever moves later)."""
    due = due_date(period, doc_date, filed_on(record))
    if record.retain_until is None:  # permanent already
        return record.retention_period, None
    if due is None or due > record.retain_until:
        return period, due
    return record.retention_period, record.retain_until


def period_for(session: Session, doc_type: str) -> str:
    """The period the schedule gives a record type now."""
    found = session.get(RetentionSchedule, doc_type)
    return found.period if found is not None else DOC_TYPES[doc_type]


def list_schedule(session: Session) -> list[RetentionSchedule]:
    return list(session.scalars(select(RetentionSchedule).order_by(RetentionSchedule.doc_type)))


def require_company_wide(session: Session, actor: Actor, action: str) -> None:
    """Refuse (403) unless the actor holds ``action`` over the root unit: the schedule
    applies to every unit, so a station's archivist may read it, not change it."""
    root = session.scalar(select(Unit.path).where(Unit.parent_id.is_(None)))
    if root is None or root not in units_for(actor, action):
        raise PermissionDenied(f"the retention schedule is company-wide: {actor.username} "
                               "needs the right over the root unit to change it")


def edit_schedule(session: Session, *, trail: Trail, username: str, doc_type: str,
                  period: str, reason: str) -> RetentionSchedule:
    """Change one line of the schedule; the audit event keeps the old and the new."""
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)} "
                           f"({'、'.join(RETENTION_CODES.values())})")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason (理由) is required, at most {MAX_REASON} characters")
    entry = session.get(RetentionSchedule, doc_type)
    if entry is None:
        raise NotFound(f"no record type {doc_type} in the retention schedule")
    before = {"period": entry.period, "reason": entry.reason}
    entry.period, entry.reason = period, reason
    entry.updated_at, entry.updated_by = utcnow(), username
    trail.record(session, Event("retention:edit", "retention_schedule", doc_type, details={
        "before": before, "after": {"period": period, "reason": reason}}))
    session.flush()
    return entry


def protect_original(store: ObjectStore, record: Record) -> None:
    """Lock the record's original in storage (WORM): retained until its due date in
    governance mode, or under a legal hold when permanent. Called once the record is
    committed. A storage failure is logged; the application's own checks (holds, due
    dates, two approvers) still guard the record."""
    try:
        if record.retain_until is None:
            store.set_legal_hold(record.original_key, True)
            return
        until = datetime.combine(record.retain_until, time(), tzinfo=UTC)
        # Storage keeps real time; a record already due needs no lock there.
        if until > datetime.now(UTC):
            store.set_retention(record.original_key, until)
    except StorageError:
        log.warning("could not lock the original of record %s in storage", record.id,
                    exc_info=True)


def protect_record(sessions: sessionmaker[Session], store: ObjectStore, record_id: str) -> None:
    """:func:`protect_original` for a record just committed, read by id."""
    with sessions() as session:
        record = session.get(Record, record_id)
    if record is not None:
        protect_original(store, record)


def read_schedule(work: Work) -> list[RetentionSchedule]:
    """The retention schedule (保管期限表), its reading audited."""
    entries = list_schedule(work.session)
    work.record(Event("retention:read", "retention_schedule", ""))
    return entries
