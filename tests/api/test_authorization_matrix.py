"""The authorisation matrix: every route × every role × own / parent / other unit × each
security level × with and without a borrow grant, with the expected answer computed from the
role table (the default policy) rather than written by hand, on both backend sets. A second
test fails when a route exists that the matrix does not cover; a third walks every route
with the enforcer refusing everything: nothing may be allowed, for no code path decides
without it."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import casbin
import pytest
from sqlalchemy import select, update

from archive.db.models import (
    BorrowRequest,
    DispositionProposal,
    InboxItem,
    PolicyRule,
    Reminder,
    Unit,
    User,
)
from archive.db.session import make_engine, make_sessionmaker
from archive.services.accounts import add_user
from archive.services.policy import bump_version
from policies import CasbinAuthorizer, Decision, Role, borrow_key
from policies.enforcer import default_rules
from policies.separation import covers
from tests import documents
from tests.factories import PASSWORD, create_customer, create_dossier, login, upload, wait_for_job

RULES = [(role, action) for _, role, action in default_rules()]
LEVELS = ("公开", "内部", "受限")
# Where the matrix users sit relative to the objects, which belong to 西湖供电所 (xh).
PLACES = {"own": "xh", "parent": "hz", "other": "gs"}
CLEARANCE = "内部"  # so each record level is below, at and above the user's clearance
# What an electronic loan opens (policies/model.conf, matcher m2).
BORROWABLE = {"record:read", "record:content", "dossier:read"}


def role_may(role: str, action: str) -> bool:
    return any(r == role and covers(pattern, action) for r, pattern in RULES)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    action: str | None  # None: any signed-in user
    scoped: bool  # the object belongs to a unit
    level_checked: bool  # content: the record's level must be within the clearance
    ok: int
    call: Callable  # (client, headers, world, level, lent) -> response
    lendable: bool = False  # runs on a lent object too (every matrix user borrowed it)
    expect: Callable | None = None  # (role, place) -> status, where the rule is special
    # the original itself: only to those who may see personal information, which a role
    # gives in its own units and a loan does not
    original: bool = False


def _unique_account() -> str:
    return str(uuid.uuid4().int)[:12]


ROUTES = [
    Route("GET", "/api/v1/auth/me", None, False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/auth/me", headers=h)),
    Route("POST", "/api/v1/auth/password", None, False, False, 401,  # a wrong current one
          lambda c, h, w, lv, lent: c.post("/api/v1/auth/password", headers=h, json={
              "current_password": "not-the-password", "new_password": "matrix-pass-2"})),
    Route("POST", "/api/v1/auth/logout", None, False, False, 204,
          lambda c, h, w, lv, lent: c.post("/api/v1/auth/logout", headers=h)),
    Route("POST", "/api/v1/customers", "customer:create", True, False, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/customers", headers=h, json={
              "account": _unique_account(), "name": "张伟", "customer_class": "低压",
              "unit": "xh"})),
    Route("GET", "/api/v1/customers/{account}", "customer:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/customers/{w['account']}", headers=h)),
    Route("GET", "/api/v1/customers", "customer:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/customers", params={"q": "330"},
                                          headers=h)),
    Route("PATCH", "/api/v1/customers/{account}", "customer:update", True, False, 200,
          lambda c, h, w, lv, lent: c.patch(f"/api/v1/customers/{w['account']}", headers=h,
                                            json={"address": "浙江省杭州市西湖区文三路90号"})),
    Route("GET", "/api/v1/dossiers", "dossier:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/dossiers", params={"limit": 5},
                                          headers=h)),
    Route("PATCH", "/api/v1/dossiers/{dossier_id}", "dossier:update", True, False, 200,
          lambda c, h, w, lv, lent: c.patch(f"/api/v1/dossiers/{w['dossiers'][False]}",
                                            headers=h, json={"shelf": "7"})),
    Route("GET", "/api/v1/dossiers/{dossier_id}/records", "dossier:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/dossiers/{w['dossiers'][lent]}/records",
                                          headers=h), lendable=True),
    Route("PATCH", "/api/v1/records/{record_id}", "record:update", True, False, 200,
          lambda c, h, w, lv, lent: c.patch(f"/api/v1/records/{w['records'][False][lv]}",
                                            headers=h, json={"title": "用电申请书（更正）"})),
    # the world's jobs are done: past every check, the retry meets their state
    Route("POST", "/api/v1/jobs/{job_id}/retry", "job:retry", True, False, 409,
          lambda c, h, w, lv, lent: c.post(f"/api/v1/jobs/{w['jobs'][lv]}/retry", headers=h)),
    Route("GET", "/api/v1/accounts", "account:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/accounts", params={"q": "own"},
                                          headers=h)),
    Route("POST", "/api/v1/dossiers", "dossier:create", True, False, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/dossiers", headers=h, json={
              "customer_account": w["account"], "category": "用电检查"})),
    Route("GET", "/api/v1/dossiers/{dossier_id}", "dossier:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/dossiers/{w['dossiers'][lent]}",
                                          headers=h), lendable=True),
    Route("POST", "/api/v1/records", "record:create", True, False, 202,
          lambda c, h, w, lv, lent: upload(c, h, w["dossiers"][False],
                                     documents.text_pdf([f"用电申请书 {uuid.uuid4()}"]),
                                     doc_type="用电申请书", security_level=lv)),
    Route("GET", "/api/v1/records/{record_id}", "record:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/records/{w['records'][lent][lv]}",
                                          headers=h), lendable=True),
    Route("GET", "/api/v1/records/{record_id}/content", "record:content", True, True, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/records/{w['records'][lent][lv]}/content",
                                          headers=h), lendable=True, original=True),
    Route("GET", "/api/v1/records/{record_id}/access-copy", "record:content", True, True, 200,
          lambda c, h, w, lv, lent: c.get(
              f"/api/v1/records/{w['records'][lent][lv]}/access-copy", headers=h),
          lendable=True),
    Route("GET", "/api/v1/records/{record_id}/text", "record:content", True, True, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/records/{w['records'][lent][lv]}/text",
                                          headers=h), lendable=True),
    Route("GET", "/api/v1/inbox", "record:create", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/inbox", headers=h)),
    # the pages of an item: the inbox's role, and content's clearance for the item's level
    Route("GET", "/api/v1/inbox/{item_id}/access-copy", "record:create", True, True, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/inbox/{w['inbox_copies'][lv]}/access-copy",
                                          headers=h)),
    Route("POST", "/api/v1/inbox/{item_id}/file", "record:create", True, False, 201,
          lambda c, h, w, lv, lent: c.post(f"/api/v1/inbox/{w['inbox_item']()}/file", headers=h,
                                           json={"customer_account": w["account"],
                                                 "doc_type": "用电申请书", "title": "用电申请书"})),
    Route("GET", "/api/v1/jobs", "job:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/jobs", params={"status": "failed"},
                                          headers=h)),
    Route("GET", "/api/v1/jobs/refused", "job:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/jobs/refused", headers=h)),
    Route("GET", "/api/v1/jobs/{job_id}", "job:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/jobs/{w['jobs'][lv]}", headers=h)),
    Route("POST", "/api/v1/borrow-requests", "borrow:request", True, False, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/borrow-requests", headers=h, json={
              "record_id": w["records"][False][lv], "purpose": "核对用电地址", "days": 7})),
    Route("GET", "/api/v1/borrow-requests", None, False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/borrow-requests", headers=h)),
    *(Route("POST", f"/api/v1/borrow-requests/{{request_id}}/{verb}", "borrow:decide", True,
            False, 200,
            lambda c, h, w, lv, lent, verb=verb: c.post(
                f"/api/v1/borrow-requests/{w['pending']()}/{verb}", headers=h))
      for verb in ("approve", "reject")),
    # Returning someone else's loan: archivists of the owning unit only (the borrower's own
    # return is walked in test_borrowing).
    Route("POST", "/api/v1/borrow-requests/{request_id}/return", "borrow:request", True, False,
          200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/borrow-requests/{w['on_loan']()}/return", headers=h),
          expect=lambda role, place: 403 if not role_may(role, "borrow:request") else
          404 if not role_may(role, "borrow:decide") or place == "other" else 200),
    Route("GET", "/api/v1/search", "search", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/search", params={"q": "用电"}, headers=h)),
    *(Route("GET", f"/api/v1/audit/{p}", "audit:read", False, False, 200,
            lambda c, h, w, lv, lent, p=p: c.get(f"/api/v1/audit/{p}", headers=h))
      for p in ("events", "verify", "stats", "unused-accounts")),
    Route("POST", "/api/v1/accounts", "account:create", False, False, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/accounts", headers=h, json={
              "username": f"u{uuid.uuid4().hex[:8]}", "password": "matrix-pass-1"})),
    Route("POST", "/api/v1/accounts/{username}/disable", "account:disable", False, False, 200,
          lambda c, h, w, lv, lent: c.post("/api/v1/accounts/target/disable", headers=h)),
    Route("POST", "/api/v1/accounts/{username}/enable", "account:disable", False, False, 200,
          lambda c, h, w, lv, lent: c.post("/api/v1/accounts/target/enable", headers=h)),
    Route("POST", "/api/v1/accounts/{username}/password-reset", "account:reset", False, False,
          200, lambda c, h, w, lv, lent: c.post("/api/v1/accounts/target/password-reset",
                                                headers=h)),
    Route("PUT", "/api/v1/accounts/{username}/grants", "role:assign", False, False, 200,
          lambda c, h, w, lv, lent: c.put("/api/v1/accounts/target/grants", headers=h, json={
              "role": "staff", "unit": "gs", "clearance": "公开"})),
    Route("GET", "/api/v1/policies", "policy:edit", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/policies", headers=h)),
    Route("POST", "/api/v1/policies", "policy:edit", False, False, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/policies", headers=h, json={
              "role": "staff", "action": "borrow:stats"})),
    Route("DELETE", "/api/v1/policies", "policy:edit", False, False, 204,
          lambda c, h, w, lv, lent: c.delete("/api/v1/policies", headers=h, params={
              "role": "staff", "action": "borrow:stats"})),
]


def _refused_or(action: str, status: int) -> Callable[[str, str], int]:
    """403 without the action, 404 for another unit, else ``status`` (what the object's
    state answers: not yet due, kept permanently)."""
    return lambda role, place: (403 if not role_may(role, action) else
                                404 if place == "other" else status)


def _hold_routes() -> list[Route]:
    rows = []
    for scope, path in (("record", "records"), ("dossier", "dossiers"),
                        ("customer", "customers")):
        def target(w: dict, scope: str = scope) -> str:
            return {"record": w["records"][False]["公开"], "dossier": w["dossiers"][False],
                    "customer": w["account"]}[scope]
        rows += [
            Route("POST", f"/api/v1/{path}/{{target}}/hold", "hold:place", False, False, 201,
                  lambda c, h, w, lv, lent, path=path, target=target: c.post(
                      f"/api/v1/{path}/{target(w)}/hold", headers=h, json={"reason": "矩阵"}),
                  expect=_refused_or("hold:place", 201)),
            Route("DELETE", f"/api/v1/{path}/{{target}}/hold", "hold:release", False, False,
                  200, lambda c, h, w, lv, lent, path=path, target=target: c.delete(
                      f"/api/v1/{path}/{target(w)}/hold", headers=h),
                  expect=_refused_or("hold:release", 200)),
        ]
    return rows


ROUTES += [
    Route("PUT", "/api/v1/dossiers/{dossier_id}/location", "dossier:update", True, False, 200,
          lambda c, h, w, lv, lent: c.put(f"/api/v1/dossiers/{w['dossiers'][False]}/location",
                                          headers=h, json={"room": "A1", "shelf": "3",
                                                           "box": "12"})),
    Route("GET", "/api/v1/borrow-requests/overdue", "borrow:decide", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/borrow-requests/overdue", headers=h)),
    Route("GET", "/api/v1/borrow-requests/stats", "borrow:stats", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/borrow-requests/stats", headers=h)),
    # Cancelling someone else's request: archivists of the owning unit only.
    Route("POST", "/api/v1/borrow-requests/{request_id}/cancel", "borrow:request", True, False,
          200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/borrow-requests/{w['pending']()}/cancel", headers=h),
          expect=lambda role, place: 403 if not role_may(role, "borrow:request") else
          404 if not role_may(role, "borrow:decide") or place == "other" else 200),
    Route("POST", "/api/v1/borrow-requests/{request_id}/checkout", "borrow:decide", True,
          False, 200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/borrow-requests/{w['paper']()}/checkout", headers=h)),
    # Renewing someone else's loan: archivists of the owning unit only, as returning it.
    Route("POST", "/api/v1/borrow-requests/{request_id}/renew", "borrow:request", True, False,
          200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/borrow-requests/{w['on_loan']()}/renew", headers=h, json={"days": 3}),
          expect=lambda role, place: 403 if not role_may(role, "borrow:request") else
          404 if not role_may(role, "borrow:decide") or place == "other" else 200),
    Route("POST", "/api/v1/borrow-requests/{request_id}/remind", "borrow:decide", True, False,
          201, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/borrow-requests/{w['on_loan']()}/remind", headers=h)),
    Route("GET", "/api/v1/reminders", None, False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/reminders", headers=h)),
    Route("POST", "/api/v1/reminders/{reminder_id}/read", None, False, False, 204,
          lambda c, h, w, lv, lent: c.post(
              f"/api/v1/reminders/{w['reminder'](h)}/read", headers=h)),
    Route("GET", "/api/v1/retention/schedules", "retention:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/retention/schedules", headers=h)),
    # The schedule is company-wide: only a role over the root unit edits it, and no matrix
    # user sits there (test_disposition walks the edit).
    Route("PUT", "/api/v1/retention/schedules/{doc_type}", "retention:edit", False, False, 200,
          lambda c, h, w, lv, lent: c.put("/api/v1/retention/schedules/其他", headers=h,
                                          json={"period": "D10", "reason": "矩阵"}),
          expect=lambda role, place: 403),
    Route("GET", "/api/v1/disposition/due", "disposition:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/disposition/due", headers=h)),
    Route("GET", "/api/v1/disposition/proposals", "disposition:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/disposition/proposals", headers=h)),
    Route("GET", "/api/v1/disposition/register", "disposition:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/disposition/register", headers=h)),
    # The matrix records are of today: proposing, deleting or destroying one is refused as
    # not due (409) to whoever may ask at all; the walk through is test_disposition's.
    Route("POST", "/api/v1/disposition", "disposition:propose", False, False, 409,
          lambda c, h, w, lv, lent: c.post("/api/v1/disposition", headers=h, json={
              "record_id": w["records"][False]["公开"], "action": "destroy",
              "reason": "矩阵"}), expect=_refused_or("disposition:propose", 409)),
    Route("DELETE", "/api/v1/records/{record_id}", "record:delete", False, False, 409,
          lambda c, h, w, lv, lent: c.delete(f"/api/v1/records/{w['records'][False]['公开']}",
                                             headers=h),
          expect=_refused_or("record:delete", 409)),
    Route("POST", "/api/v1/disposition/{proposal_id}/approve", "disposition:approve", False,
          False, 409, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/disposition/{w['proposal']()}/approve", headers=h),
          expect=_refused_or("disposition:approve", 409)),
    Route("POST", "/api/v1/disposition/{proposal_id}/reject", "disposition:approve", True,
          False, 200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/disposition/{w['proposal']()}/reject", headers=h)),
    *_hold_routes(),
    Route("POST", "/api/v1/transfers", "transfer:create", True, True, 201,
          lambda c, h, w, lv, lent: c.post("/api/v1/transfers", headers=h, json={
              "receiver": "杭州市档案馆", "record_ids": [w["records"][False][lv]]})),
    Route("GET", "/api/v1/transfers", "transfer:read", False, False, 200,
          lambda c, h, w, lv, lent: c.get("/api/v1/transfers", headers=h)),
    Route("GET", "/api/v1/transfers/{transfer_id}", "transfer:read", True, False, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/transfers/{w['transfers'][lv]}",
                                          headers=h)),
    Route("GET", "/api/v1/transfers/{transfer_id}/package", "transfer:read", True, True, 200,
          lambda c, h, w, lv, lent: c.get(f"/api/v1/transfers/{w['transfers'][lv]}/package",
                                          headers=h)),
    Route("POST", "/api/v1/transfers/{transfer_id}/receipt", "transfer:create", True, False,
          200, lambda c, h, w, lv, lent: c.post(
              f"/api/v1/transfers/{w['transfer']('公开')}/receipt", headers=h,
              json={"valid": True, "detail": "matrix"})),
]
# signing in (a bearer token, or the web application's session cookie) and the probes
PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/session"),
          ("GET", "/api/v1/healthz"), ("GET", "/api/v1/readyz"),
          # the Prometheus scrape: its own token, no user's (tests/api/test_metrics.py)
          ("GET", "/api/v1/metrics")}


def expected(route: Route, role: str, place: str, level: str, lent: bool) -> int:
    if route.expect is not None:
        return route.expect(role, place)
    if route.action is not None and not role_may(role, route.action):
        return 403
    if lent and route.original and place == "other":
        return 403  # lent to read, but personal information is the role's to show
    if lent and route.action in BORROWABLE:
        return route.ok  # the loan opens it, whatever the unit and level
    if route.scoped and place == "other":
        return 404  # not disclosed
    if route.level_checked and LEVELS.index(level) > LEVELS.index(CLEARANCE):
        return 403
    return route.ok


@pytest.fixture
def world(client, settings) -> Iterator[dict]:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    users = [f"{role.value}-{place}" for role, place in itertools.product(Role, PLACES)]
    with sessions.begin() as session:
        for role, (place, unit) in itertools.product(Role, PLACES.items()):
            add_user(session, username=f"{role.value}-{place}", password=PASSWORD,
                     role=role.value, unit_code=unit, clearance=CLEARANCE, personal_info=True)
        add_user(session, username="target", password=PASSWORD, role="staff", unit_code="xh")
    archivist = login(client, "archivist")
    account = "3300012345"
    create_customer(client, archivist, account, unit="xh")
    dossiers, records, jobs = {}, {False: {}, True: {}}, {}
    for lent in (False, True):
        dossiers[lent] = create_dossier(client, archivist, account)["id"]
        for level in LEVELS:
            ids = upload(client, archivist, dossiers[lent],
                         documents.text_pdf([f"用电申请书 密级 {level} {lent}"]),
                         doc_type="用电申请书", security_level=level).json()
            assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
            records[lent][level] = ids["record_id"]
            if not lent:
                jobs[level] = ids["job_id"]
    # Every matrix user holds an electronic loan of the second dossier, as an approval
    # writes it (test_borrowing walks the approval itself).
    until = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sessions.begin() as session:
        for username in users:
            session.add(PolicyRule(ptype="p2", v0=username,
                                   v1=borrow_key(dossiers[True]) + "*", v2=until, v3="matrix"))
        bump_version(session)

    def borrow_request(status: str) -> Callable[[], str]:
        def make() -> str:
            with sessions.begin() as session:
                requester = session.scalar(select(User.id).where(User.username == "target"))
                request = BorrowRequest(
                    requester_id=requester, dossier_id=dossiers[False], record_id=None,
                    kind="electronic", purpose="matrix", days=7, status=status,
                    ends_at=datetime.now(UTC) + timedelta(days=7) if status == "approved"
                    else None)
                session.add(request)
                session.flush()
                return request.id
        return make

    def inbox_item(level: str = "内部") -> str:
        """A file of 西湖供电所's inbox, read but not placed (a born-digital PDF, stored)."""
        digest = uuid.uuid4().hex * 2
        content = documents.text_pdf([f"用电申请书 {digest}"])
        client.app.state.store.put(f"originals/{digest}", io.BytesIO(content),
                                   content_type="application/pdf")
        with sessions.begin() as session:
            xh = session.scalar(select(Unit.id).where(Unit.code == "xh"))
            creator = session.scalar(select(User.id).where(User.username == "target"))
            item = InboxItem(unit_id=xh, created_by=creator, sha256=digest,
                             size=len(content), media_type="application/pdf",
                             original_key=f"originals/{digest}", page_count=1,
                             security_level=level, status="waiting", reason="matrix",
                             pages=json.dumps([{"number": 1, "text": "用电申请书",
                                                "source": "text-layer", "confidence": None,
                                                "layout": None}]))
            session.add(item)
            session.flush()
            return item.id

    def paper() -> str:
        """An approved paper loan waiting to be handed out (the last one came back)."""
        with sessions.begin() as session:
            session.execute(update(BorrowRequest).where(
                BorrowRequest.kind == "physical", BorrowRequest.checked_out_at.is_not(None))
                .values(status="returned"))
            requester = session.scalar(select(User.id).where(User.username == "target"))
            request = BorrowRequest(requester_id=requester, dossier_id=dossiers[False],
                                    record_id=None, kind="physical", purpose="matrix", days=7,
                                    status="approved")
            session.add(request)
            session.flush()
            return request.id

    def proposal() -> str:
        """A destruction proposal by someone else, on a permanent record."""
        with sessions.begin() as session:
            proposer = session.scalar(select(User.id).where(User.username == "archivist"))
            made = DispositionProposal(record_id=records[False]["公开"], action="destroy",
                                       reason="matrix", status="pending",
                                       proposed_by_id=proposer)
            session.add(made)
            session.flush()
            return made.id

    def reminder(headers: dict) -> str:
        """A reminder to whoever asks (their token names them)."""
        me = client.get("/api/v1/auth/me", headers=headers).json()["username"]
        with sessions.begin() as session:
            user = session.scalar(select(User.id).where(User.username == me))
            made = Reminder(user_id=user, kind="overdue", message="matrix")
            session.add(made)
            session.flush()
            return made.id

    def transfer(level: str) -> str:
        made = client.post("/api/v1/transfers", headers=archivist, json={
            "receiver": "杭州市档案馆", "record_ids": [records[False][level]]})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    yield {"account": account, "dossiers": dossiers, "records": records, "jobs": jobs,
           "pending": borrow_request("pending"), "on_loan": borrow_request("approved"),
           "inbox_item": inbox_item, "paper": paper,
           "inbox_copies": {level: inbox_item(level) for level in LEVELS}, "proposal": proposal,
           "reminder": reminder, "transfer": transfer,
           "transfers": {level: transfer(level) for level in LEVELS}}
    engine.dispose()


def test_every_route_for_every_role_unit_and_level(client, world) -> None:
    tokens: dict[str, dict] = {}
    failures = []
    checked = 0
    # Per user, routes run in table order, so each POST of a policy rule meets its DELETE.
    for role, place, route in itertools.product(Role, PLACES, ROUTES):
        username = f"{role.value}-{place}"
        levels = LEVELS if route.scoped or route.level_checked else (CLEARANCE,)
        for level, lent in itertools.product(levels, (False, True) if route.lendable
                                             else (False,)):
            if route.path == "/api/v1/auth/logout" or username not in tokens:
                tokens[username] = login(client, username)
            response = route.call(client, tokens[username], world, level, lent)
            want = expected(route, role.value, place, level, lent)
            checked += 1
            if response.status_code != want:
                failures.append(f"{route.method} {route.path} as {username} on {level}"
                                f"{' lent' if lent else ''}: got {response.status_code}, "
                                f"want {want}: {response.text[:120]}")
            if route.path == "/api/v1/auth/logout":
                tokens.pop(username)
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked >= 800


def test_the_matrix_covers_every_route(client) -> None:
    served = {(method.upper(), path) for path, operations in client.app.openapi()["paths"].items()
              for method in operations}
    covered = {(r.method, r.path) for r in ROUTES} | PUBLIC
    assert served - covered == set(), "routes missing from the authorisation matrix"
    assert covered - served == set(), "matrix rows for routes that no longer exist"


def test_nothing_is_allowed_when_the_enforcer_refuses_everything(
        client, world, monkeypatch) -> None:
    """GIVEN the Casbin enforcer answering no to every request WHEN a user of each role
    calls every route THEN every route that names an action answers 403 or 404, and the
    routes for any signed-in user show nothing but the caller's own."""
    tokens = {role: login(client, f"{role.value}-own") for role in Role}
    tokens["target"] = login(client, "target")
    made = world["transfer"]("公开")  # refused below, so it stays open for every call
    world = {**world, "transfer": lambda level: made}
    monkeypatch.setattr(casbin.Enforcer, "enforce", lambda self, *args, **kwargs: False)
    client.app.state.authorizer.refresh(force=True)  # nothing remembered from before
    allowed = []
    for role, route in itertools.product(Role, ROUTES):
        if route.path == "/api/v1/auth/logout":
            continue
        response = route.call(client, tokens[role], world, CLEARANCE, False)
        if route.action is None:
            assert response.status_code in (200, 204, route.ok), (route.path, response.text)
            body = response.json() if response.status_code == 200 else None
            if route.path == "/api/v1/borrow-requests":
                assert body == [], (role, body)  # none of their own, none to decide
            if route.path == "/api/v1/reminders":
                assert {n["kind"] for n in body} <= {"overdue"}, (role, body)  # stored ones
            continue
        if response.status_code not in (403, 404):
            allowed.append(f"{route.method} {route.path} as {role}: {response.status_code}")
    assert not allowed, "\n".join(allowed)
    # …and the target of the world's requests sees only their own
    own = client.get("/api/v1/borrow-requests", headers=tokens["target"]).json()
    assert own and all(r["requester"] == "target" for r in own)


# Routes that act on no object of a unit: lists trimmed to the caller's units (by the
# enforcer's domains), the caller's own profile and reminders, accounts and the policy
# (the administrators' objects), the company-wide retention schedule, the audit log.
OBJECTLESS = {
    ("GET", "/api/v1/auth/me"), ("GET", "/api/v1/inbox"), ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/customers"), ("GET", "/api/v1/dossiers"), ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/jobs/refused"),
    ("GET", "/api/v1/borrow-requests"), ("GET", "/api/v1/search"),
    *(("GET", f"/api/v1/audit/{p}") for p in ("events", "verify", "stats", "unused-accounts")),
    ("POST", "/api/v1/accounts"), ("POST", "/api/v1/accounts/{username}/disable"),
    ("POST", "/api/v1/auth/password"), ("POST", "/api/v1/accounts/{username}/password-reset"),
    ("POST", "/api/v1/accounts/{username}/enable"), ("PUT", "/api/v1/accounts/{username}/grants"),
    ("GET", "/api/v1/policies"), ("POST", "/api/v1/policies"), ("DELETE", "/api/v1/policies"),
    ("GET", "/api/v1/borrow-requests/overdue"), ("GET", "/api/v1/borrow-requests/stats"),
    ("GET", "/api/v1/reminders"), ("POST", "/api/v1/reminders/{reminder_id}/read"),
    ("GET", "/api/v1/retention/schedules"), ("PUT", "/api/v1/retention/schedules/{doc_type}"),
    ("GET", "/api/v1/disposition/due"), ("GET", "/api/v1/disposition/proposals"),
    ("GET", "/api/v1/disposition/register"), ("GET", "/api/v1/transfers"),
}


def test_every_object_decision_is_the_enforcer_s(client, world, monkeypatch) -> None:
    """GIVEN the authorizer hiding every object (its ``decide``), its role domains intact
    WHEN every user calls every route THEN each route on an object answers 403 or 404,
    and search grants nothing: no route decides about an object on its own."""
    # the users of the objects' own unit: elsewhere the matrix shows them hidden already
    tokens = {role: login(client, f"{role.value}-own") for role in Role}
    made = world["transfer"]("公开")
    world = {**world, "transfer": lambda level: made}
    monkeypatch.setattr(CasbinAuthorizer, "decide",
                        lambda self, *args, **kwargs: Decision.HIDE)
    allowed = []
    for role, route in itertools.product(Role, ROUTES):
        if route.path == "/api/v1/auth/logout":
            continue
        levels = LEVELS if route.scoped or route.level_checked else (CLEARANCE,)
        for level, lent in itertools.product(levels, (False, True) if route.lendable
                                             else (False,)):
            response = route.call(client, tokens[role], world, level, lent)
            if (route.method, route.path) in OBJECTLESS:
                if route.path == "/api/v1/search" and response.status_code == 200:
                    hits = response.json()["hits"]
                    assert all(h["access"] == "restricted" and not h["highlights"]
                               for h in hits), hits
                continue
            if response.status_code not in (403, 404):
                allowed.append(f"{route.method} {route.path} as {role}-own on {level}"
                               f"{' lent' if lent else ''}: {response.status_code}")
    assert not allowed, "\n".join(allowed)
    covered = {(r.method, r.path) for r in ROUTES}
    assert covered >= OBJECTLESS
