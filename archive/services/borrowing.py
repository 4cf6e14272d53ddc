"""Borrowing (借阅): a clerk asks for a record or a dossier, an archivist of the owning unit
approves or rejects (never their own request), and an approved electronic loan opens the
object for reading until its period ends.

The loan itself is a Casbin ``p2`` row (see policies/model.conf) written in the same
transaction as the approval, so a committed approval is a working grant on every process's
next request, and an expired one stops matching without anyone acting. Returning a loan
deletes the row.

A physical loan (实体借阅) opens nothing on screen: once approved, an archivist checks the
paper original out of its place (库房/架/盒) to the borrower, who has it until the due date
(counted from the checkout); the archivist takes it back (归还). Loans can be renewed (续借)
twice; overdue paper loans are listed for 催还 and their borrowers get in-app reminders.
Usage statistics (利用统计) count requests by unit, month, record type, purpose and kind,
with the share of paper loans returned late or still out past their date.

Public surface: :func:`request_borrow`, :func:`decide_request`, :func:`return_loan`,
:func:`cancel_request`, :func:`checkout`, :func:`paper_out`, :func:`renew`,
:func:`overdue_loans`, :func:`remind`, :func:`reminders_for`, :func:`usage_statistics`,
:func:`list_requests`, :func:`request_state`, ``KINDS``, ``PURPOSES``, ``MAX_DAYS``,
``MAX_RENEWALS``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from archive.clock import as_utc
from archive.db.models import BorrowRequest, Dossier, PolicyRule, Record, Reminder, Unit, User
from archive.errors import Conflict, Gone, InvalidInput, NotFound
from archive.services.access import Actor, in_units, require_unit, units_for
from archive.services.audit import Event
from archive.services.filing import get_dossier
from archive.services.policy import bump_version
from archive.services.records import get_record
from archive.services.work import Work
from policies import Action, Target, borrow_key
from policies.enforcer import grant_time

KINDS = ("electronic", "physical")  # 电子借阅 / 实体借阅
# 利用目的, the fixed vocabulary the statistics count by (the free text says the rest)
PURPOSES = ("查询核对", "业务办理", "审计检查", "法律诉讼", "编史修志", "其他")
MAX_DAYS = 90
MAX_PURPOSE = 500
MAX_RENEWALS = 2
DUE_SOON = timedelta(days=3)


def request_state(request: BorrowRequest, now: datetime) -> str:
    """pending, approved, rejected or returned; an electronic loan past its end is
    expired; a paper original handed out is checked_out, and overdue past its due date."""
    if request.status != "approved":
        return request.status
    late = request.ends_at is not None and as_utc(request.ends_at) <= now
    if request.kind == "physical":
        if request.checked_out_at is None:
            return "approved"
        return "overdue" if late else "checked_out"
    return "expired" if late else "approved"


def _details(request: BorrowRequest) -> dict:
    """What the audit events of a request say of it."""
    return {"record_id": request.record_id, "dossier_id": request.dossier_id,
            "kind": request.kind, "days": request.days, "requester": request.requester.username,
            "purpose_kind": request.purpose_kind}


def request_borrow(
    work: Work, *, actor: Actor, record_id: str | None, dossier_id: str | None,
    purpose: str, days: int, kind: str, purpose_kind: str = "其他",
) -> BorrowRequest:
    """File a request for a record or a dossier the actor can see in the catalogue."""
    session = work.session
    if (record_id is None) == (dossier_id is None):
        raise InvalidInput("give exactly one of record_id and dossier_id")
    purpose = purpose.strip()
    if not purpose or len(purpose) > MAX_PURPOSE:
        raise InvalidInput(f"purpose (借阅目的) is required, at most {MAX_PURPOSE} characters")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if purpose_kind not in PURPOSES:
        raise InvalidInput(f"purpose_kind must be one of {'、'.join(PURPOSES)}")
    if record_id is not None:
        record = get_record(session, actor=actor, record_id=record_id)
        if record.destroyed_at is not None:
            raise Gone(f"record {record_id} was destroyed on {record.destroyed_at:%Y-%m-%d}")
        dossier_id = record.dossier_id
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
                            record_id=record_id, kind=kind, purpose=purpose, days=days,
                            purpose_kind=purpose_kind)
    session.add(request)
    session.flush()
    work.record(Event("borrow:request", "borrow", request.id,
                      details={**_details(request), "purpose": request.purpose}))
    return request


def _get(session: Session, request_id: str) -> BorrowRequest:
    request = session.get(BorrowRequest, request_id)
    if request is None:
        raise NotFound(f"borrow request {request_id} not found")
    return request


def _target(request: BorrowRequest) -> Target:
    return Target(key=borrow_key(request.dossier_id, request.record_id),
                  requester=request.requester.username)


def _require_archivist(actor: Actor, request: BorrowRequest, *, not_own: bool) -> None:
    """The actor may decide for the request's unit (borrow:decide); with ``not_own`` the
    policy also refuses the requester themselves."""
    target = (_target(request) if not_own
              else Target(key=borrow_key(request.dossier_id, request.record_id)))
    require_unit(actor, request.dossier.unit.path, f"borrow request {request.id}",
                 Action.BORROW_DECIDE, target)


def decide_request(
    work: Work, *, actor: Actor, request_id: str, approve: bool, note: str,
    now: datetime,
) -> BorrowRequest:
    """Approve or reject a pending request; the policy refuses the requester themselves."""
    session = work.session
    request = _get(session, request_id)
    _require_archivist(actor, request, not_own=True)
    if request.status != "pending":
        raise Conflict(f"borrow request {request_id} is already {request.status}")
    request.status = "approved" if approve else "rejected"
    request.decided_by = session.get(User, actor.user_id)
    request.decided_at = now
    request.decision_note = note.strip()[:MAX_PURPOSE]
    if approve and request.kind == "electronic":
        request.ends_at = now + timedelta(days=request.days)
        _open_loan(session, request, now)
    # a paper loan's period starts when the original is handed out (checkout)
    session.flush()
    work.record(Event("borrow:approve" if approve else "borrow:reject", "borrow", request_id,
                      details={**_details(request), "note": note}))
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


def cancel_request(work: Work, *, actor: Actor, request_id: str, now: datetime
                   ) -> BorrowRequest:
    """Withdraw a request not yet in use: pending, or a paper loan approved but never
    collected. By the requester, or an archivist of the owning unit."""
    session = work.session
    request = _get(session, request_id)
    if request.requester_id != actor.user_id:
        _require_archivist(actor, request, not_own=False)
    uncollected = (request.status == "approved" and request.kind == "physical"
                   and request.checked_out_at is None)
    if request.status != "pending" and not uncollected:
        raise Conflict(f"borrow request {request_id} is {request_state(request, now)}; only a "
                       "pending request or an uncollected paper loan is cancelled")
    request.status = "cancelled"
    request.returned_at = now
    session.flush()
    work.record(Event("borrow:cancel", "borrow", request_id, details=_details(request)))
    return request


def return_loan(
    work: Work, *, actor: Actor, request_id: str, now: datetime,
) -> BorrowRequest:
    """End a loan: by its borrower, or by an archivist who may decide for its unit."""
    session = work.session
    request = _get(session, request_id)
    # Paper comes back into the archivist's hands; a borrower ends an electronic loan.
    if request.requester_id != actor.user_id or request.kind == "physical":
        _require_archivist(actor, request, not_own=False)
    if request.status != "approved":
        raise Conflict(f"borrow request {request_id} is {request.status}, not on loan")
    if request.kind == "physical" and request.checked_out_at is None:
        raise Conflict(f"borrow request {request_id}: the original was never checked out")
    request.status = "returned"
    request.returned_at = now
    if session.execute(delete(PolicyRule).where(
            PolicyRule.ptype == "p2", PolicyRule.v3 == request.id)).rowcount:
        bump_version(session)
    session.flush()
    work.record(Event("borrow:return", "borrow", request_id, details=_details(request)))
    return request


def list_requests(
    work: Work, *, actor: Actor, status: str | None = None, limit: int = 200,
) -> list[BorrowRequest]:
    """The actor's own requests and those they may decide (their units' subtrees)."""
    session = work.session
    query = (select(BorrowRequest).join(Dossier, Dossier.id == BorrowRequest.dossier_id)
             .join(Unit, Unit.id == Dossier.unit_id)
             .where(or_(BorrowRequest.requester_id == actor.user_id,
                        in_units(Unit.path, units_for(actor, Action.BORROW_DECIDE)))))
    if status is not None:
        query = query.where(BorrowRequest.status == status)
    result = list(session.scalars(query.order_by(BorrowRequest.created_at.desc()).limit(limit)))
    work.record(Event("borrow:list", "borrow", "",
                      details={"status": status, "count": len(result)}))
    return result


def _location(dossier: Dossier) -> str:
    parts = [f"{dossier.room}库房" if dossier.room else "", f"{dossier.shelf}架" if dossier.shelf
             else "", f"{dossier.box}盒" if dossier.box else ""]
    return " ".join(p for p in parts if p) or dossier.location


def paper_out(session: Session, dossier_id: str, record_id: str | None, *,
              besides: str | None = None) -> BorrowRequest | None:
    """A paper loan now checked out that holds the original of the record (or of any
    record of the dossier, when ``record_id`` is None): one of the dossier's, or the
    record's own; ``besides`` leaves one request out."""
    query = select(BorrowRequest).where(
        BorrowRequest.kind == "physical", BorrowRequest.status == "approved",
        BorrowRequest.checked_out_at.is_not(None), BorrowRequest.dossier_id == dossier_id,
        or_(BorrowRequest.record_id.is_(None), record_id is None,
            BorrowRequest.record_id == record_id))
    if besides is not None:
        query = query.where(BorrowRequest.id != besides)
    return session.scalar(query)


def checkout(work: Work, *, actor: Actor, request_id: str, now: datetime
             ) -> BorrowRequest:
    """An archivist of the owning unit hands the paper original out (出库) to the borrower,
    from its place; the due date is ``days`` from now. Never to themselves."""
    session = work.session
    request = _get(session, request_id)
    _require_archivist(actor, request, not_own=True)
    if request.kind != "physical":
        raise Conflict(f"borrow request {request_id} is electronic: nothing to hand out")
    if request.status != "approved" or request.checked_out_at is not None:
        raise Conflict(f"borrow request {request_id} is {request_state(request, now)}, "
                       "not waiting to be checked out")
    # one checkout of a dossier's paper at a time: the next waits here, then sees this one
    session.execute(select(Dossier.id).where(Dossier.id == request.dossier_id)
                    .with_for_update())
    out = paper_out(session, request.dossier_id, request.record_id, besides=request.id)
    if out is not None:
        raise Conflict(f"the original is out with {out.requester.username} (borrow request "
                       f"{out.id}) until {as_utc(out.ends_at):%Y-%m-%d}" if out.ends_at else
                       f"the original is out (borrow request {out.id})")
    request.checked_out_at = now
    request.checked_out_by_id = actor.user_id
    request.ends_at = now + timedelta(days=request.days)
    request.location = _location(request.dossier)
    session.flush()
    work.record(Event("borrow:checkout", "borrow", request_id,
                      details={**_details(request), "location": request.location,
                      "due": request.ends_at}))
    return request


def renew(work: Work, *, actor: Actor, request_id: str, days: int, now: datetime
          ) -> BorrowRequest:
    """续借: a loan running now is extended by ``days``, at most ``MAX_RENEWALS`` times. An
    archivist of the owning unit renews any loan but their own; the borrower may renew
    a paper loan before its due date, never an electronic one (its grant of access is the
    archivist's to give)."""
    session = work.session
    request = _get(session, request_id)
    state = request_state(request, now)
    by_borrower = (request.requester_id == actor.user_id and request.kind == "physical"
                   and state == "checked_out")
    if not by_borrower:
        _require_archivist(actor, request, not_own=True)
    if state not in ("approved", "checked_out", "overdue") or request.ends_at is None:
        raise Conflict(f"borrow request {request_id} is {state}, not a loan running now")
    if request.renewals >= MAX_RENEWALS:
        raise Conflict(f"borrow request {request_id} was renewed {MAX_RENEWALS} times "
                       "already; return it and ask again")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}")
    request.ends_at = as_utc(request.ends_at) + timedelta(days=days)
    request.renewals += 1
    if request.kind == "electronic":
        session.execute(update(PolicyRule).where(PolicyRule.ptype == "p2",
                                                 PolicyRule.v3 == request.id)
                        .values(v2=grant_time(request.ends_at)))
        bump_version(session)
    session.flush()
    work.record(Event("borrow:renew", "borrow", request_id,
                      details={**_details(request), "added_days": days, "ends_at": request.ends_at,
                      "renewals": request.renewals}))
    return request


def _decidable(actor: Actor, action: str = Action.BORROW_DECIDE):  # type: ignore[no-untyped-def]
    """Requests of the units where the actor may perform ``action``."""
    return (select(BorrowRequest).join(Dossier, Dossier.id == BorrowRequest.dossier_id)
            .join(Unit, Unit.id == Dossier.unit_id)
            .where(in_units(Unit.path, units_for(actor, action))))


def overdue_condition(now: datetime):  # type: ignore[no-untyped-def]
    """A paper original handed out and not back by its due date."""
    return and_(BorrowRequest.kind == "physical", BorrowRequest.status == "approved",
                BorrowRequest.checked_out_at.is_not(None), BorrowRequest.ends_at <= now)


def _overdue(session: Session, actor: Actor, now: datetime) -> list[BorrowRequest]:
    return list(session.scalars(_decidable(actor).where(overdue_condition(now))
                                .order_by(BorrowRequest.ends_at)))


def overdue_loans(work: Work, *, actor: Actor, now: datetime) -> list[BorrowRequest]:
    """催还: paper originals of the actor's units still out past their due date, the
    longest overdue first."""
    result = _overdue(work.session, actor, now)
    work.record(Event("borrow:overdue", "borrow", "", details={"count": len(result)}))
    return result


def remind(work: Work, *, actor: Actor, request_id: str, now: datetime) -> Reminder:
    """An archivist's 催还 notice to the borrower of a loan falling due or overdue."""
    session = work.session
    request = _get(session, request_id)
    _require_archivist(actor, request, not_own=False)
    state = request_state(request, now)
    if state not in ("checked_out", "overdue", "approved") or request.ends_at is None:
        raise Conflict(f"borrow request {request_id} is {state}: nothing to remind of")
    what = f"《{request.dossier.archive_number}》" + (
        "纸质原件" if request.kind == "physical" else "电子借阅")
    due = as_utc(request.ends_at).date().isoformat()
    message = (f"催还：{what}已于 {due} 到期，请尽快归还。" if state == "overdue"
               else f"提醒：{what}将于 {due} 到期。")
    reminder = Reminder(user_id=request.requester_id, borrow_request_id=request.id,
                        kind="overdue" if state == "overdue" else "due_soon",
                        message=message, created_at=now)
    session.add(reminder)
    session.flush()
    work.record(Event("borrow:remind", "borrow", request_id, details={"kind": reminder.kind}))
    return reminder


@dataclass(frozen=True)
class Notice:
    """What the user sees in the app: a stored reminder, or one worked out now."""

    kind: str
    message: str
    borrow_request_id: str | None = None
    id: str | None = None
    created_at: datetime | None = None


def reminders_for(session: Session, *, actor: Actor, now: datetime) -> list[Notice]:
    """The user's unread reminders, and what is due: their loans ending within three days
    or overdue, and for archivists the requests waiting and the originals overdue."""
    notices = [Notice(r.kind, r.message, r.borrow_request_id, r.id, r.created_at)
               for r in session.scalars(select(Reminder).where(
                   Reminder.user_id == actor.user_id, Reminder.read_at.is_(None))
                   .order_by(Reminder.created_at.desc()))]
    for loan in session.scalars(select(BorrowRequest).where(
            BorrowRequest.requester_id == actor.user_id, BorrowRequest.status == "approved",
            BorrowRequest.ends_at.is_not(None), BorrowRequest.ends_at <= now + DUE_SOON)):
        state = request_state(loan, now)
        due = as_utc(loan.ends_at).date().isoformat() if loan.ends_at else ""
        if state == "overdue":
            notices.append(Notice("overdue", f"《{loan.dossier.archive_number}》纸质原件已于 "
                                  f"{due} 到期，请归还档案室。", loan.id))
        elif state in ("checked_out", "approved"):
            notices.append(Notice("due_soon", f"《{loan.dossier.archive_number}》的借阅将于 "
                                  f"{due} 到期。", loan.id))
    if units_for(actor, Action.BORROW_DECIDE):
        waiting = session.scalar(select(func.count()).select_from(
            _decidable(actor).where(BorrowRequest.status == "pending",
                                    BorrowRequest.requester_id != actor.user_id).subquery()))
        if waiting:
            notices.append(Notice("to_decide", f"{waiting} 件借阅申请待审批。"))
        late = len(_overdue(session, actor, now))
        if late:
            notices.append(Notice("overdue_list", f"{late} 件纸质原件逾期未还，请催还。"))
    return notices


def read_reminder(session: Session, *, actor: Actor, reminder_id: str, now: datetime) -> None:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.user_id != actor.user_id:
        raise NotFound(f"reminder {reminder_id} not found")
    reminder.read_at = reminder.read_at or now
    session.flush()


def usage_statistics(work: Work, *, actor: Actor, date_from: date | None,
                     date_to: date | None, now: datetime) -> dict:
    """利用统计 over the requests of the actor's units filed in the period: counts by unit,
    month, record type (整卷 for a whole dossier), purpose and kind, approvals, and the
    overdue rate of paper loans (returned late, or out past their date now)."""
    session = work.session
    query = (_decidable(actor, Action.BORROW_STATS)
             .outerjoin(Record, Record.id == BorrowRequest.record_id)
             .add_columns(Unit.code, Record.doc_type))
    if date_from is not None:
        query = query.where(BorrowRequest.created_at >= datetime.combine(date_from, time(),
                                                                         tzinfo=UTC))
    if date_to is not None:
        query = query.where(BorrowRequest.created_at < datetime.combine(
            date_to + timedelta(days=1), time(), tzinfo=UTC))
    counts: dict[str, Counter[str]] = {name: Counter() for name in
                                       ("by_unit", "by_month", "by_doc_type", "by_purpose",
                                        "by_kind", "by_status")}
    paper_out = paper_late = 0
    for request, unit_code, doc_type in session.execute(query):
        counts["by_unit"][unit_code] += 1
        counts["by_month"][as_utc(request.created_at).strftime("%Y-%m")] += 1
        counts["by_doc_type"][doc_type or "整卷"] += 1
        counts["by_purpose"][request.purpose_kind] += 1
        counts["by_kind"][request.kind] += 1
        counts["by_status"][request_state(request, now)] += 1
        if request.kind == "physical" and request.checked_out_at is not None:
            paper_out += 1
            assert request.ends_at is not None
            back = as_utc(request.returned_at) if request.returned_at else now
            paper_late += back > as_utc(request.ends_at)
    result: dict = {name: dict(sorted(counter.items())) for name, counter in counts.items()}
    result["total"] = sum(counts["by_kind"].values())
    result["paper_loans"] = paper_out
    result["paper_overdue"] = paper_late
    result["overdue_rate"] = round(paper_late / paper_out, 4) if paper_out else 0.0
    work.record(Event("borrow:stats", "borrow", "",
                      details={"date_from": date_from, "date_to": date_to,
                      "total": result["total"]}))
    return result
