"""Appraisal and disposition (鉴定/销毁), and the legal holds that stop them.

A record whose due date has come enters the appraisal queue. An archivist of its unit
proposes to retain it (extend its due date by some years: applied at once) or to destroy
it; a destruction needs a second archivist's approval, never the proposer's own (the
policy refuses it). Approval destroys in one transaction: the record's pages (its text)
are deleted, it is queued to leave the search index, its status becomes ``destroyed`` and
an entry goes into the destruction register (销毁清册) with the catalogue fields and the
original's sha256; the inbox item it was filed from loses its text. The stored objects
(original, access copy, and transfer packages holding them) are removed right after the
commit (:func:`purge_destroyed`); if storage is away then, the worker loop removes them
later, so nothing is left behind for long and nothing is removed before the decision is
committed. Deciding locks the record, its dossier and customer rows, as placing a hold
does, so the two never pass each other.

A legal hold on a record, its dossier or its customer blocks proposals to destroy,
approvals and deletion with 409 until it is released.

Public surface: :func:`place_hold`, :func:`release_hold`, :func:`active_holds`,
:func:`due_records`, :func:`propose`, :func:`decide`, :func:`request_deletion`,
:func:`purge_destroyed`, :func:`register`, :func:`hold_unit`, ``SCOPES``,
``MAX_EXTENSION_YEARS``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import (
    BorrowRequest,
    Customer,
    DestructionEntry,
    DispositionProposal,
    Dossier,
    InboxItem,
    LegalHold,
    Page,
    PolicyRule,
    Record,
    Transfer,
    Unit,
    User,
)
from archive.errors import Conflict, InvalidInput, NotFound
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.access_copies import masked_copy_keys
from archive.services.audit import Event
from archive.services.borrowing import paper_out
from archive.services.filing import get_customer, get_dossier
from archive.services.indexing import enqueue
from archive.services.policy import bump_version
from archive.services.records import get_record
from archive.services.work import Work
from policies import Action, Target, borrow_key
from storage import ObjectNotFound, ObjectStore, StorageError

log = logging.getLogger(__name__)

SCOPES = ("record", "dossier", "customer")
ACTIONS = ("retain", "destroy")
MAX_EXTENSION_YEARS = 50
MAX_TEXT = 1000


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is required, at most {MAX_TEXT} characters")
    return value


# ---- legal holds ----------------------------------------------------------------------

def _hold_target(session: Session, actor: Actor, scope: str, target: str, action: str) -> str:
    """Check the actor may act on the object in its unit; returns its unit path."""
    if scope == "record":
        return get_record(session, actor=actor, record_id=target, action=action
                          ).dossier.unit.path
    if scope == "dossier":
        return get_dossier(session, actor=actor, dossier_id=target, action=action).unit.path
    if scope == "customer":
        return get_customer(session, actor=actor, account=target, action=action).unit.path
    raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}")


def hold_unit(session: Session, scope: str, target: str) -> str:
    """The unit path of the object a hold names (for answers about the hold)."""
    if scope == "record":
        record = session.get(Record, target)
        return record.dossier.unit.path if record else ""
    if scope == "dossier":
        dossier = session.get(Dossier, target)
        return dossier.unit.path if dossier else ""
    customer = session.scalar(select(Customer).where(Customer.account == target))
    return customer.unit.path if customer else ""


def _active(scope: str, target: str):  # type: ignore[no-untyped-def]
    return and_(LegalHold.scope == scope, LegalHold.target == target,
                LegalHold.released_at.is_(None))


def place_hold(session: Session, *, actor: Actor, scope: str, target: str, reason: str,
               now: datetime) -> LegalHold:
    _hold_target(session, actor, scope, target, Action.HOLD_PLACE)
    # waits for a destruction deciding under this object (see _lock), and the other way
    locked = {"record": select(Record.id).where(Record.id == target),
              "dossier": select(Dossier.id).where(Dossier.id == target),
              "customer": select(Customer.id).where(Customer.account == target)}[scope]
    session.execute(locked.with_for_update())
    reason = _text(reason, "a reason (冻结原因)")
    if session.scalar(select(LegalHold.id).where(_active(scope, target))) is not None:
        raise Conflict(f"{scope} {target} is already under a legal hold")
    hold = LegalHold(scope=scope, target=target, reason=reason, placed_by=actor.username,
                     placed_at=now)
    session.add(hold)
    session.flush()
    return hold


def release_hold(session: Session, *, actor: Actor, scope: str, target: str,
                 now: datetime) -> LegalHold:
    _hold_target(session, actor, scope, target, Action.HOLD_RELEASE)
    hold = session.scalar(select(LegalHold).where(_active(scope, target)))
    if hold is None:
        raise NotFound(f"{scope} {target} is not under a legal hold")
    hold.released_by, hold.released_at = actor.username, now
    session.flush()
    return hold


def active_holds(session: Session, record: Record) -> list[LegalHold]:
    """The unreleased holds that cover the record: on it, its dossier or its customer."""
    dossier = record.dossier
    return list(session.scalars(select(LegalHold).where(
        LegalHold.released_at.is_(None),
        or_(and_(LegalHold.scope == "record", LegalHold.target == record.id),
            and_(LegalHold.scope == "dossier", LegalHold.target == dossier.id),
            and_(LegalHold.scope == "customer",
                 LegalHold.target == dossier.customer.account)))))


def _lock(session: Session, record: Record) -> None:
    """Lock the rows a hold can name (record, dossier, customer) until commit, so a hold
    placed meanwhile, or a second decision, waits for this one and then sees it."""
    dossier = record.dossier
    session.execute(select(Record.id).where(Record.id == record.id).with_for_update())
    session.execute(select(Dossier.id).where(Dossier.id == dossier.id).with_for_update())
    session.execute(select(Customer.id).where(Customer.id == dossier.customer_id)
                    .with_for_update())


def _refuse_if_held(session: Session, record: Record, what: str) -> None:
    holds = active_holds(session, record)
    if holds:
        hold = holds[0]
        raise Conflict(f"record {record.id} is under a legal hold ({hold.scope} "
                       f"{hold.target}, placed by {hold.placed_by}: {hold.reason}); "
                       f"no {what} until it is released")


# ---- appraisal ------------------------------------------------------------------------

def due_records(session: Session, *, actor: Actor, today: date, limit: int = 500
                ) -> list[Record]:
    """The appraisal queue: records of the actor's units whose due date has come, not
    destroyed, oldest due first."""
    return list(session.scalars(
        select(Record).join(Dossier, Dossier.id == Record.dossier_id)
        .join(Unit, Unit.id == Dossier.unit_id)
        .where(Record.retain_until <= today, Record.destroyed_at.is_(None),
               in_units(Unit.path, units_for(actor, Action.DISPOSITION_READ)))
        .order_by(Record.retain_until, Record.id).limit(limit)))


def pending_proposal(session: Session, record_id: str) -> DispositionProposal | None:
    return session.scalar(select(DispositionProposal).where(
        DispositionProposal.record_id == record_id, DispositionProposal.status == "pending"))


def _refuse_unless_due(record: Record, today: date) -> None:
    if record.destroyed_at is not None:
        raise Conflict(f"record {record.id} was destroyed on {record.destroyed_at:%Y-%m-%d}")
    if record.status != "indexed":  # its ingest job would write the content back
        raise Conflict(f"record {record.id} is still being read (status {record.status})")
    if record.retain_until is None:
        raise Conflict(f"record {record.id} is kept permanently (永久)")
    if record.retain_until > today:
        raise Conflict(f"record {record.id} is retained until {record.retain_until}")


def propose(session: Session, *, actor: Actor, record_id: str, action: str, reason: str,
            years: int | None, today: date) -> DispositionProposal:
    """An archivist's appraisal of a due record: retain (applied at once) or destroy
    (waits for a second archivist)."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    reason = _text(reason, "a reason (鉴定意见)")
    record = get_record(session, actor=actor, record_id=record_id,
                        action=Action.DISPOSITION_PROPOSE)
    _lock(session, record)
    _refuse_unless_due(record, today)
    if pending_proposal(session, record.id) is not None:
        raise Conflict(f"record {record.id} already has a proposal waiting for approval")
    proposer = session.get(User, actor.user_id)
    if action == "retain":
        if years is None or not 1 <= years <= MAX_EXTENSION_YEARS:
            raise InvalidInput(f"years must be between 1 and {MAX_EXTENSION_YEARS} to retain")
        assert record.retain_until is not None
        record.retain_until = record.retain_until.replace(
            year=max(record.retain_until.year, today.year) + years)
        proposal = DispositionProposal(record=record, action=action, years=years,
                                       reason=reason, status="applied", proposed_by=proposer,
                                       decided_by=proposer)
    else:
        _refuse_if_held(session, record, "destruction")
        proposal = DispositionProposal(record=record, action=action, reason=reason,
                                       status="pending", proposed_by=proposer)
    session.add(proposal)
    session.flush()
    return proposal


def request_deletion(session: Session, *, actor: Actor, record_id: str, reason: str,
                     today: date) -> DispositionProposal:
    """``DELETE records/{id}``: refused (409) while the record is held or retained; past
    its due date it becomes a destruction proposal for a second archivist to approve."""
    record = get_record(session, actor=actor, record_id=record_id, action=Action.RECORD_DELETE)
    _refuse_if_held(session, record, "deletion")
    _refuse_unless_due(record, today)
    return propose(session, actor=actor, record_id=record_id, action="destroy",
                   reason=reason or "申请删除", years=None, today=today)


def get_proposal(session: Session, proposal_id: str) -> DispositionProposal:
    proposal = session.get(DispositionProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"disposition proposal {proposal_id} not found")
    return proposal


def decide(session: Session, *, actor: Actor, proposal_id: str, approve: bool, note: str,
           now: datetime) -> DispositionProposal:
    """The second person: approving a destruction destroys the record (see the module)."""
    proposal = get_proposal(session, proposal_id)
    record = proposal.record
    require_unit(actor, record.dossier.unit.path, f"disposition proposal {proposal_id}",
                 Action.DISPOSITION_APPROVE, Target(key=borrow_key(record.dossier_id, record.id),
                                               requester=proposal.proposed_by.username))
    _lock(session, record)
    session.execute(select(DispositionProposal.id).where(DispositionProposal.id == proposal.id)
                    .with_for_update())
    session.refresh(proposal, attribute_names=["status"])  # as the lock found it
    if proposal.status != "pending":
        raise Conflict(f"disposition proposal {proposal_id} is already {proposal.status}")
    proposal.decided_by = session.get(User, actor.user_id)
    proposal.decided_at = now
    proposal.decision_note = note.strip()[:MAX_TEXT]
    if not approve:
        proposal.status = "rejected"
        session.flush()
        return proposal
    _refuse_if_held(session, record, "destruction")
    _refuse_unless_due(record, now.date())
    out = paper_out(session, record.dossier_id, record.id)
    if out is not None:
        raise Conflict(f"the paper original of record {record.id} is out on loan (borrow "
                       f"request {out.id}); destroy it once it is back")
    _destroy(session, proposal, now)
    proposal.status = "approved"
    session.flush()
    return proposal


def _destroy(session: Session, proposal: DispositionProposal, now: datetime) -> None:
    record = proposal.record
    dossier = record.dossier
    session.add(DestructionEntry(
        record_id=record.id, proposal_id=proposal.id, archive_number=dossier.archive_number,
        customer_account=dossier.customer.account, customer_name=dossier.customer.name,
        doc_type=record.doc_type, title=record.title, doc_date=record.doc_date,
        security_level=record.security_level, retention_period=record.retention_period,
        retain_until=record.retain_until, page_count=record.page_count, sha256=record.sha256,
        size=record.size, proposed_by=proposal.proposed_by.username,
        approved_by=proposal.decided_by.username if proposal.decided_by else "",
        reason=proposal.reason, destroyed_at=now, unit_path=dossier.unit.path))
    session.execute(delete(Page).where(Page.record_id == record.id))
    # Loans of this record alone end with it (a dossier's loan goes on for the others):
    # their grants go, running loans are returned and waiting requests cancelled.
    loans = list(session.scalars(select(BorrowRequest.id).where(
        BorrowRequest.record_id == record.id)))
    if loans and session.execute(delete(PolicyRule).where(
            PolicyRule.ptype == "p2", PolicyRule.v3.in_(loans))).rowcount:
        bump_version(session)
    for state, ended in (("approved", "returned"), ("pending", "cancelled")):
        session.execute(update(BorrowRequest).where(
            BorrowRequest.record_id == record.id, BorrowRequest.status == state)
            .values(status=ended, returned_at=now))
    # the inbox item it was filed from held its text and objects too
    session.execute(update(InboxItem).where(InboxItem.record_id == record.id)
                    .values(pages=None, access_key=None, original_key=""))
    record.status, record.destroyed_at = "destroyed", now
    enqueue(session, record.id)  # leaves the search index


def register(session: Session, *, actor: Actor, limit: int = 500) -> list[DestructionEntry]:
    """销毁清册 of the actor's units, newest first."""
    return list(session.scalars(
        select(DestructionEntry)
        .where(in_units(DestructionEntry.unit_path, units_for(actor, Action.DISPOSITION_READ)))
        .order_by(DestructionEntry.destroyed_at.desc(), DestructionEntry.id.desc())
        .limit(limit)))


def list_proposals(session: Session, *, actor: Actor, status: str | None,
                   limit: int = 500) -> list[DispositionProposal]:
    """Proposals on records of the actor's units, newest first."""
    query = (select(DispositionProposal).join(Record).join(Dossier).join(Unit)
             .where(in_units(Unit.path, units_for(actor, Action.DISPOSITION_READ))))
    if status is not None:
        query = query.where(DispositionProposal.status == status)
    return list(session.scalars(query.order_by(DispositionProposal.proposed_at.desc())
                                .limit(limit)))


def purge_destroyed(sessions: sessionmaker[Session], store: ObjectStore,
                    record_id: str | None = None) -> int:
    """Remove the stored objects of destroyed records (one, or all still holding keys):
    the original, the access copies (masked ones too) and the transfer packages that
    carry them. The decision
    is committed, so the governance retention is bypassed; a legal hold in storage (placed
    there by hand: the application sets none on a record that can fall due) is left alone
    and reported. Returns how many records were purged; a storage failure leaves the keys
    for the next round."""
    with sessions() as session:
        query = select(Record).where(Record.destroyed_at.is_not(None),
                                     Record.original_key != "")
        if record_id is not None:
            query = query.where(Record.id == record_id)
        pending = [(r.id, r.original_key, r.access_key, r) for r in session.scalars(query)]
    purged = 0
    for found_id, original, access, found in pending:
        with sessions() as session:
            packages = list(session.scalars(select(Transfer.package_key).where(
                Transfer.items.contains(f'"{found_id}"'), Transfer.package_key != "")))
        try:
            keys = [*filter(None, (original, access)), *masked_copy_keys(store, found),
                    *packages]
            removed = all(_remove(store, key, found_id) for key in keys)
        except StorageError:
            log.warning("could not yet remove the objects of destroyed record %s", found_id,
                        exc_info=True)
            continue
        if not removed:
            continue
        with sessions.begin() as session:
            record = session.get(Record, found_id)
            assert record is not None
            record.original_key, record.access_key = "", None
            session.execute(update(Transfer).where(Transfer.package_key.in_(packages))
                            .values(package_key=""))
        purged += 1
    return purged


def _remove(store: ObjectStore, key: str, record_id: str) -> bool:
    """Delete one object of a destroyed record; False (and reported) while a legal hold
    set in storage itself keeps it."""
    try:
        if store.locks(key).legal_hold:
            log.warning("the object %s of destroyed record %s is under a legal hold in "
                        "storage; lift it there to let it go", key, record_id)
            return False
        store.delete(key, governance_bypass=True)
    except ObjectNotFound:
        pass
    return True


# The operations of the API, each recording its audit event in the caller's unit of work.

def review_queue(work: Work, *, actor: Actor, today: date) -> list[Record]:
    records = due_records(work.session, actor=actor, today=today)
    work.record(Event("disposition:due", "record", "", details={"count": len(records)}))
    return records


def appraise(work: Work, *, actor: Actor, record_id: str, action: str, reason: str,
             years: int | None, today: date) -> DispositionProposal:
    """:func:`propose`, audited as the retention or the destruction proposed."""
    proposal = propose(work.session, actor=actor, record_id=record_id, action=action,
                       reason=reason, years=years, today=today)
    work.record(Event(f"disposition:{action}", "record", record_id, details={
        "proposal": proposal.id, "years": years, "reason": proposal.reason,
        "retain_until": proposal.record.retain_until}))
    return proposal


def proposals_of(work: Work, *, actor: Actor, status: str | None
                 ) -> list[DispositionProposal]:
    found = list_proposals(work.session, actor=actor, status=status)
    work.record(Event("disposition:list", "disposition", "",
                      details={"status": status, "count": len(found)}))
    return found


def decide_proposal(work: Work, *, actor: Actor, proposal_id: str, approve: bool, note: str,
                    now: datetime) -> DispositionProposal:
    """:func:`decide`, audited; a destruction names what was destroyed."""
    proposal = decide(work.session, actor=actor, proposal_id=proposal_id, approve=approve,
                      note=note, now=now)
    record = proposal.record
    details: dict = {"proposal": proposal_id, "note": note}
    if approve:
        details.update(archive_number=record.dossier.archive_number, sha256=record.sha256,
                       title=record.title, proposed_by=proposal.proposed_by.username)
    work.record(Event("disposition:destroy" if approve else "disposition:reject", "record",
                      record.id, details=details))
    return proposal


def read_register(work: Work, *, actor: Actor, format: str) -> list[DestructionEntry]:
    entries = register(work.session, actor=actor)
    work.record(Event("disposition:register", "disposition", "",
                      details={"count": len(entries), "format": format}))
    return entries


def hold(work: Work, *, actor: Actor, scope: str, target: str, reason: str,
         now: datetime) -> LegalHold:
    placed = place_hold(work.session, actor=actor, scope=scope, target=target, reason=reason,
                        now=now)
    work.record(Event("hold:place", scope, target,
                      details={"hold": placed.id, "reason": placed.reason}))
    return placed


def unhold(work: Work, *, actor: Actor, scope: str, target: str, now: datetime
           ) -> LegalHold:
    released = release_hold(work.session, actor=actor, scope=scope, target=target, now=now)
    work.record(Event("hold:release", scope, target, details={"hold": released.id}))
    return released


def ask_deletion(work: Work, *, actor: Actor, record_id: str, reason: str, today: date
                 ) -> DispositionProposal:
    proposal = request_deletion(work.session, actor=actor, record_id=record_id,
                                reason=reason, today=today)
    work.record(Event("disposition:destroy-requested", "record", record_id,
                      details={"proposal": proposal.id, "reason": proposal.reason}))
    return proposal
