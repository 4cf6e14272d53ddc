"""Borrowing (借阅): a clerk asks for a record or a dossier, an archivist of the owning unit
approves or rejects (never their own request), and an approved electronic loan opens the
object for reading until its period ends.

The loan itself is a Casbin ``p2`` row (see policies/model.conf) written in the same
transaction as the approval, so a committed approval is a working grant on every process's
next request, and an expired one stops matching without anyone acting. Returning a loan
deletes the row. Physical loans are recorded the same way but open nothing on screen.

Public surface: :func:`request_borrow`, :func:`decide_request`, :func:`return_loan`,
:func:`list_requests`, :func:`request_state`, ``KINDS``, ``MAX_DAYS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from archive.clock import as_utc
from archive.db.models import BorrowRequest, Dossier, PolicyRule, Unit, User
from archive.errors import Conflict, InvalidInput, NotFound
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.filing import get_dossier
from archive.services.policy import bump_version
from archive.services.records import get_record
from policies import Target, borrow_key
from policies.enforcer import grant_time

KINDS = ("electronic", "physical")  # 电子借阅 / 实体借阅
MAX_DAYS = 90
MAX_PURPOSE = 500


def request_state(request: BorrowRequest, now: datetime) -> str:
    """pending, approved, rejected, returned, or expired (an approved loan past its end)."""
    if request.status == "approved" and request.ends_at and as_utc(request.ends_at) <= now:
        return "expired"
    return request.status


def request_borrow(
    session: Session, *, actor: Actor, record_id: str | None, dossier_id: str | None,
    purpose: str, days: int, kind: str,
) -> BorrowRequest:
    """File a request for a record or a dossier the actor can see in the catalogue."""
    if (record_id is None) == (dossier_id is None):
        raise InvalidInput("give exactly one of record_id and dossier_id")
    purpose = purpose.strip()
    if not purpose or len(purpose) > MAX_PURPOSE:
        raise InvalidInput(f"purpose (借阅目的) is required, at most {MAX_PURPOSE} characters")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if record_id is not None:
        dossier_id = get_record(session, actor=actor, record_id=record_id).dossier_id
    else:
        assert dossier_id is not None
        get_dossier(session, actor=actor, dossier_id=dossier_id)
    pending = session.scalar(select(BorrowRequest.id).where(
        BorrowRequest.requester_id == actor.user_id, BorrowRequest.dossier_id == dossier_id,
        BorrowRequest.record_id.is_(None) if record_id is None
        else BorrowRequest.record_id == record_id,
        BorrowRequest.kind == kind, BorrowRequest.status == "pending"))
    if pending is not None:
        raise Conflict(f"borrow request {pending} for this is still pending")
    request = BorrowRequest(requester_id=actor.user_id, dossier_id=dossier_id,
                            record_id=record_id, kind=kind, purpose=purpose, days=days)
    session.add(request)
    session.flush()
    return request


def _get(session: Session, request_id: str) -> BorrowRequest:
    request = session.get(BorrowRequest, request_id)
    if request is None:
        raise NotFound(f"borrow request {request_id} not found")
    return request


def _target(request: BorrowRequest) -> Target:
    return Target(key=borrow_key(request.dossier_id, request.record_id),
                  requester=request.requester.username)


def decide_request(
    session: Session, *, actor: Actor, request_id: str, approve: bool, note: str,
    now: datetime,
) -> BorrowRequest:
    """Approve or reject a pending request; the policy refuses the requester themselves."""
    request = _get(session, request_id)
    require_unit(actor, request.dossier.unit.path, f"borrow request {request_id}",
                 "borrow:decide", _target(request))
    if request.status != "pending":
        raise Conflict(f"borrow request {request_id} is already {request.status}")
    request.status = "approved" if approve else "rejected"
    request.decided_by = session.get(User, actor.user_id)
    request.decided_at = now
    request.decision_note = note.strip()[:MAX_PURPOSE]
    if approve:
        request.ends_at = now + timedelta(days=request.days)
        if request.kind == "electronic":
            _open_loan(session, request, now)
    session.flush()
    return request


def _open_loan(session: Session, request: BorrowRequest, now: datetime) -> None:
    assert request.ends_at is not None
    pattern = borrow_key(request.dossier_id, request.record_id)
    if request.record_id is None:
        pattern += "*"
    # Expired grants match nothing; clear them out while the policy changes anyway.
    session.execute(delete(PolicyRule).where(PolicyRule.ptype == "p2",
                                             PolicyRule.v2 <= grant_time(now)))
    session.add(PolicyRule(ptype="p2", v0=request.requester.username, v1=pattern,
                           v2=grant_time(request.ends_at), v3=request.id))
    bump_version(session)


def return_loan(
    session: Session, *, actor: Actor, request_id: str, now: datetime,
) -> BorrowRequest:
    """End a loan: by its borrower, or by an archivist who may decide for its unit."""
    request = _get(session, request_id)
    if request.requester_id != actor.user_id:
        require_unit(actor, request.dossier.unit.path, f"borrow request {request_id}",
                     "borrow:decide", Target(key=borrow_key(request.dossier_id,
                                                             request.record_id)))
    if request.status != "approved":
        raise Conflict(f"borrow request {request_id} is {request.status}, not on loan")
    request.status = "returned"
    request.returned_at = now
    if session.execute(delete(PolicyRule).where(
            PolicyRule.ptype == "p2", PolicyRule.v3 == request.id)).rowcount:
        bump_version(session)
    session.flush()
    return request


def list_requests(
    session: Session, *, actor: Actor, status: str | None = None, limit: int = 200,
) -> list[BorrowRequest]:
    """The actor's own requests and those they may decide (their units' subtrees)."""
    query = (select(BorrowRequest).join(Dossier, Dossier.id == BorrowRequest.dossier_id)
             .join(Unit, Unit.id == Dossier.unit_id)
             .where(or_(BorrowRequest.requester_id == actor.user_id,
                        in_units(Unit.path, units_for(actor, "borrow:decide")))))
    if status is not None:
        query = query.where(BorrowRequest.status == status)
    return list(session.scalars(query.order_by(BorrowRequest.created_at.desc()).limit(limit)))
