"""Borrowing (借阅) as clerks and archivists walk it: request, approve or reject, read while
the loan runs, and lose access when it is returned or its period ends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from archive.db.models import BorrowRequest
from archive.db.session import make_engine, make_sessionmaker
from tests import documents
from tests.factories import (
    add_account,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)

PAGE = "安全用电检查记录 户号 3300012345 发现窃电嫌疑 联系电话 13800001234"


@pytest.fixture(params=["embedded", "services"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def restricted(client, settings) -> dict[str, str]:
    """A 受限 record of 西湖供电所, above the clerk's clearance (内部)."""
    add_account(settings, "archivist_xh", role="archivist", unit="xh", clearance="受限")
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    accepted = upload(client, archivist, dossier, documents.text_pdf([PAGE]),
                      doc_type="安全用电检查记录", title="窃电检查", security_level="受限").json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    return {"record": accepted["record_id"], "dossier": dossier}


def _content(client, headers, record_id: str) -> int:
    return client.get(f"/api/v1/records/{record_id}/text", headers=headers).status_code


def _ask(client, headers, **body) -> dict:
    response = client.post("/api/v1/borrow-requests", headers=headers,
                           json={"purpose": "核查窃电线索", "days": 7, **body})
    assert response.status_code == 201, response.text
    return response.json()


def _hit(client, headers, record_id: str) -> dict:
    found = client.get("/api/v1/search", params={"q": "窃电"}, headers=headers).json()
    return next(h for h in found["hits"] if h["record_id"] == record_id)


def test_request_approve_read_and_the_period_ends_by_itself(client, restricted) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist_xh")
    record = restricted["record"]
    assert _content(client, clerk, record) == 403
    assert _hit(client, clerk, record)["access"] == "restricted"

    request = _ask(client, clerk, record_id=record)
    assert request["status"] == "pending" and request["requester"] == "clerk"
    assert _content(client, clerk, record) == 403  # nothing opens before the approval
    pending = client.get("/api/v1/borrow-requests", params={"status": "pending"},
                         headers=archivist).json()
    assert [r["id"] for r in pending] == [request["id"]]

    approved = client.post(f"/api/v1/borrow-requests/{request['id']}/approve", headers=archivist,
                           json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "archivist_xh"
    assert _content(client, clerk, record) == 200
    hit = _hit(client, clerk, record)
    assert hit["access"] == "granted"
    assert "窃电" in hit["highlights"][0]["text"]
    assert "13800001234" not in hit["highlights"][0]["text"]  # a loan is not a PI clearance

    client.app.state.clock.advance(timedelta(days=7, minutes=1))
    assert _content(client, clerk, record) == 403
    assert _hit(client, clerk, record)["access"] == "restricted"
    mine = client.get("/api/v1/borrow-requests", headers=clerk).json()
    assert mine[0]["status"] == "expired"


def test_a_dossier_loan_opens_its_records_to_a_clerk_of_another_station(
        client, restricted) -> None:
    other, archivist = login(client, "clerk_gs"), login(client, "archivist")
    # The other station cannot even see the dossier, so it cannot ask for it …
    refused = client.post("/api/v1/borrow-requests", headers=other, json={
        "dossier_id": restricted["dossier"], "purpose": "跨所核查", "days": 3})
    assert refused.status_code == 404
    # … but a loan approved for it opens it (the owning unit decided).
    clerk = login(client, "clerk")
    request = _ask(client, clerk, dossier_id=restricted["dossier"], days=3)
    client.post(f"/api/v1/borrow-requests/{request['id']}/approve", headers=archivist)
    assert _content(client, clerk, restricted["record"]) == 200
    assert client.get(f"/api/v1/dossiers/{restricted['dossier']}",
                      headers=clerk).status_code == 200
    assert _content(client, other, restricted["record"]) == 404  # the loan is the clerk's


def test_nobody_approves_their_own_request(client, restricted) -> None:
    archivist, colleague = login(client, "archivist_xh"), login(client, "archivist")
    request = _ask(client, archivist, record_id=restricted["record"])
    own = client.post(f"/api/v1/borrow-requests/{request['id']}/approve", headers=archivist)
    assert own.status_code == 403
    assert "own request" in own.json()["detail"]
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/reject",
                       headers=archivist).status_code == 403
    clerk = login(client, "clerk")  # clerks never decide
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/approve",
                       headers=clerk).status_code == 403
    approved = client.post(f"/api/v1/borrow-requests/{request['id']}/approve",
                           headers=colleague)
    assert approved.status_code == 200
    auditor = login(client, "auditor")
    allowed = client.get("/api/v1/audit/events", params={"action": "borrow:approve"},
                         headers=auditor).json()["events"]
    assert [(e["actor"], e["object_id"]) for e in allowed] == [("archivist", request["id"])]
    denied = client.get("/api/v1/audit/events", params={"decision": "deny"},
                        headers=auditor).json()["events"]
    assert sorted((e["actor"], e["action"].split("/")[-1]) for e in denied) == [
        ("archivist_xh", "approve"), ("archivist_xh", "reject"), ("clerk", "approve")]


def test_reject_and_return(client, restricted) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist_xh")
    record = restricted["record"]
    first = _ask(client, clerk, record_id=record)
    rejected = client.post(f"/api/v1/borrow-requests/{first['id']}/reject", headers=archivist,
                           json={"note": "用途不明"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "用途不明"
    assert _content(client, clerk, record) == 403
    again = client.post(f"/api/v1/borrow-requests/{first['id']}/approve", headers=archivist)
    assert again.status_code == 409

    second = _ask(client, clerk, record_id=record)
    client.post(f"/api/v1/borrow-requests/{second['id']}/approve", headers=archivist)
    assert _content(client, clerk, record) == 200
    other = login(client, "clerk_gs")
    assert client.post(f"/api/v1/borrow-requests/{second['id']}/return",
                       headers=other).status_code == 404
    returned = client.post(f"/api/v1/borrow-requests/{second['id']}/return", headers=clerk)
    assert returned.json()["status"] == "returned"
    assert _content(client, clerk, record) == 403
    assert client.post(f"/api/v1/borrow-requests/{second['id']}/return",
                       headers=clerk).status_code == 409


RECORD = "the restricted record"  # replaced by its id


@pytest.mark.parametrize("backend_set", ["embedded"], indirect=True)
@pytest.mark.parametrize("body", [
    {"purpose": "核查", "days": 7},  # neither record nor dossier
    {"purpose": "核查", "days": 7, "dossier_id": "x", "record_id": RECORD},
    {"purpose": "  ", "days": 7, "record_id": RECORD},
    {"purpose": "核查", "days": 0, "record_id": RECORD},
    {"purpose": "核查", "days": 91, "record_id": RECORD},
    {"purpose": "核查", "days": 7, "kind": "courier", "record_id": RECORD},
])
def test_bad_requests_are_refused_and_leave_nothing(client, settings, restricted, body) -> None:
    clerk = login(client, "clerk")
    body = {k: restricted["record"] if v == RECORD else v for k, v in body.items()}
    response = client.post("/api/v1/borrow-requests", headers=clerk, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(BorrowRequest)) == 0
    engine.dispose()


def _as_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_paper_loan_checked_out_overdue_reminded_and_returned(client, restricted) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist_xh")
    dossier = restricted["dossier"]
    placed = client.put(f"/api/v1/dossiers/{dossier}/location", headers=archivist,
                        json={"room": "A1", "shelf": "3", "box": "12"})
    assert placed.status_code == 200, placed.text
    request = _ask(client, clerk, record_id=restricted["record"], kind="physical",
                   purpose_kind="法律诉讼")
    approved = client.post(f"/api/v1/borrow-requests/{request['id']}/approve",
                           headers=archivist).json()
    assert approved["status"] == "approved" and approved["ends_at"] is None
    assert _content(client, clerk, restricted["record"]) == 403  # paper opens no screen
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/return",
                       headers=archivist).status_code == 409  # never handed out
    # An approved paper loan nobody collects can be withdrawn; this one is collected.
    idle = _ask(client, clerk, dossier_id=dossier, kind="physical")
    client.post(f"/api/v1/borrow-requests/{idle['id']}/approve", headers=archivist)
    withdrawn = client.post(f"/api/v1/borrow-requests/{idle['id']}/cancel", headers=clerk)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/borrow-requests/{idle['id']}/checkout",
                       headers=archivist).status_code == 409
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/checkout",
                       headers=clerk).status_code == 403

    out = client.post(f"/api/v1/borrow-requests/{request['id']}/checkout", headers=archivist)
    assert out.status_code == 200, out.text
    out = out.json()
    assert out["status"] == "checked_out" and out["location"] == "A1库房 3架 12盒"
    assert _as_time(out["ends_at"]) - _as_time(out["checked_out_at"]) == timedelta(days=7)
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/checkout",
                       headers=archivist).status_code == 409
    assert [n["kind"] for n in client.get("/api/v1/reminders", headers=clerk).json()] == []

    client.app.state.clock.advance(timedelta(days=5))
    soon = client.get("/api/v1/reminders", headers=clerk).json()
    assert [(n["kind"], n["borrow_request_id"]) for n in soon] == [("due_soon", request["id"])]

    client.app.state.clock.advance(timedelta(days=3))
    late = client.get("/api/v1/borrow-requests/overdue", headers=archivist).json()
    assert [(r["id"], r["status"], r["days_overdue"]) for r in late] == [
        (request["id"], "overdue", 1)]
    assert "overdue_list" in {n["kind"] for n in
                              client.get("/api/v1/reminders", headers=archivist).json()}
    sent = client.post(f"/api/v1/borrow-requests/{request['id']}/remind", headers=archivist)
    assert sent.status_code == 201 and "催还" in sent.json()["message"]
    notices = client.get("/api/v1/reminders", headers=clerk).json()
    stored = next(n for n in notices if n["id"] is not None)
    assert stored["kind"] == "overdue" and "催还" in stored["message"]
    assert client.post(f"/api/v1/reminders/{stored['id']}/read", headers=clerk
                       ).status_code == 204
    assert all(n["id"] is None for n in client.get("/api/v1/reminders", headers=clerk).json())
    assert client.post(f"/api/v1/reminders/{stored['id']}/read",
                       headers=archivist).status_code == 404  # not theirs

    # The borrower cannot renew an overdue loan nor sign the paper back in themselves.
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/renew", headers=clerk,
                       json={"days": 7}).status_code == 404
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/return",
                       headers=clerk).status_code == 404
    back = client.post(f"/api/v1/borrow-requests/{request['id']}/return", headers=archivist)
    assert back.status_code == 200 and back.json()["status"] == "returned"
    assert client.get("/api/v1/borrow-requests/overdue", headers=archivist).json() == []

    stats = client.get("/api/v1/borrow-requests/stats", headers=archivist).json()
    assert stats["total"] == 2 and stats["by_purpose"] == {"其他": 1, "法律诉讼": 1}
    assert stats["by_kind"] == {"physical": 2} and stats["by_unit"] == {"xh": 2}
    assert stats["by_doc_type"] == {"安全用电检查记录": 1, "整卷": 1}
    assert stats["by_status"] == {"cancelled": 1, "returned": 1}
    assert stats["paper_loans"] == 1 and stats["overdue_rate"] == 1.0
    month = client.app.state.clock.now().strftime("%Y-%m")
    assert sum(stats["by_month"].values()) == 2 and month >= min(stats["by_month"])
    assert client.get("/api/v1/borrow-requests/stats", headers=clerk).status_code == 403


def test_loans_are_renewed_twice_at_most(client, restricted) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist_xh")
    record = restricted["record"]
    request = _ask(client, clerk, record_id=record, days=7)
    client.post(f"/api/v1/borrow-requests/{request['id']}/approve", headers=archivist)
    client.app.state.clock.advance(timedelta(days=6))
    # An electronic loan's access is the archivist's to extend, not the borrower's.
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/renew", headers=clerk,
                       json={"days": 7}).status_code == 404
    renewed = client.post(f"/api/v1/borrow-requests/{request['id']}/renew",
                          headers=archivist, json={"days": 7})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["renewals"] == 1
    client.app.state.clock.advance(timedelta(days=4))  # past the first end: still open
    assert _content(client, clerk, record) == 200
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/renew", headers=archivist,
                       json={"days": 0}).status_code == 422
    assert client.post(f"/api/v1/borrow-requests/{request['id']}/renew", headers=archivist,
                       json={"days": 3}).status_code == 200
    third = client.post(f"/api/v1/borrow-requests/{request['id']}/renew", headers=archivist,
                        json={"days": 3})
    assert third.status_code == 409 and "renewed 2 times" in third.json()["detail"]
    client.app.state.clock.advance(timedelta(days=7))  # 6 + 4 + 7 = 17 > 7 + 7 + 3
    assert _content(client, clerk, record) == 403

    # A paper loan: its borrower renews before the due date; one original goes out once.
    paper = _ask(client, clerk, dossier_id=restricted["dossier"], kind="physical", days=5)
    client.post(f"/api/v1/borrow-requests/{paper['id']}/approve", headers=archivist)
    client.post(f"/api/v1/borrow-requests/{paper['id']}/checkout", headers=archivist)
    again = _ask(client, clerk, record_id=record, kind="physical", days=5)
    client.post(f"/api/v1/borrow-requests/{again['id']}/approve", headers=archivist)
    taken = client.post(f"/api/v1/borrow-requests/{again['id']}/checkout", headers=archivist)
    assert taken.status_code == 409 and "is out with clerk" in taken.json()["detail"]
    longer = client.post(f"/api/v1/borrow-requests/{paper['id']}/renew", headers=clerk,
                         json={"days": 10})
    assert longer.status_code == 200, longer.text
    assert _as_time(longer.json()["ends_at"]) - _as_time(longer.json()["checked_out_at"]) == \
        timedelta(days=15)
