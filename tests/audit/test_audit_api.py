"""The trail as users meet it: what gets recorded, and the auditor's API."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def record(client) -> str:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")
    pdf = documents.text_pdf(["供用电合同 第八条 用电人窃电的，供电人有权中止供电"])
    ids = upload(client, archivist, dossier["id"], pdf).json()
    assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
    return ids["record_id"]


def events(client, **filters) -> list[dict]:
    response = client.get("/api/v1/audit/events", params={"limit": 1000, **filters},
                          headers=login(client, "auditor"))
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_auditor_reads_the_log_but_no_content(client, record) -> None:
    auditor = login(client, "auditor")
    assert client.get(f"/api/v1/records/{record}/content", headers=auditor).status_code == 403
    assert client.get(f"/api/v1/records/{record}/text", headers=auditor).status_code == 403
    assert client.get("/api/v1/audit/events", headers=auditor).status_code == 200
    clerk = login(client, "clerk")
    assert client.get("/api/v1/audit/events", headers=clerk).status_code == 403
    assert client.get("/api/v1/audit/verify", headers=clerk).status_code == 403


def test_reads_changes_searches_and_logins_are_recorded(client, record) -> None:
    clerk = login(client, "clerk")
    client.get(f"/api/v1/records/{record}/text", headers=clerk)
    client.get("/api/v1/search", params={"q": "窃电", "doc_type": "供用电合同"}, headers=clerk)
    client.post("/api/v1/auth/token", data={"username": "clerk", "password": "wrong-one"})
    client.get(f"/api/v1/records/{record}", headers=login(client, "clerk_gs"))

    actions = [(e["actor"], e["action"], e["decision"]) for e in events(client)]
    assert ("archivist", "customer:create", "allow") in actions
    assert ("archivist", "record:create", "allow") in actions
    assert ("system", "record:ingest", "allow") in actions
    assert ("clerk", "record:text", "allow") in actions
    assert ("clerk", "login", "deny") in actions
    denied = events(client, actor="clerk_gs", decision="deny")
    assert [e["action"].endswith("/records/{record_id}") for e in denied] == [True]
    assert denied[0]["object_id"] == f"/api/v1/records/{record}"

    search = events(client, action="search", actor="clerk")[0]
    assert search["details"]["q"] == "窃电"
    assert search["details"]["filters"]["doc_type"] == "供用电合同"
    assert search["details"]["total"] == 1, search
    assert search["unit"] == "xh" and search["role"] == "staff"


def test_reading_the_log_is_itself_audited(client, record) -> None:
    events(client, action="search")
    reads = events(client, action="audit:read")
    assert reads and reads[0]["actor"] == "auditor"
    assert reads[0]["details"]["filters"] == {"action": "search"}


def test_exports_and_verification(client, record) -> None:
    auditor = login(client, "auditor")
    as_csv = client.get("/api/v1/audit/events", params={"format": "csv"}, headers=auditor)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert rows and {"seq", "actor", "action", "decision", "hash"} <= set(rows[0])
    as_jsonl = client.get("/api/v1/audit/events", params={"format": "jsonl"}, headers=auditor)
    lines = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [r["seq"] for r in lines] == sorted(r["seq"] for r in lines)
    verdict = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verdict["ok"] is True and verdict["events"] >= len(lines)


def test_tampering_shows_in_the_api(client, record) -> None:
    import sqlalchemy as sa

    with client.app.state.sessions.begin() as session:
        session.execute(sa.text("UPDATE audit_events SET actor = 'intruder' WHERE seq = 2"))
    verdict = client.get("/api/v1/audit/verify", headers=login(client, "auditor")).json()
    assert (verdict["ok"], verdict["first_bad_seq"]) == (False, 2)


def test_access_statistics_and_unused_accounts(client, record) -> None:
    clerk = login(client, "clerk")
    client.get(f"/api/v1/records/{record}", headers=clerk)
    client.get(f"/api/v1/records/{record}", headers=login(client, "clerk_gs"))
    auditor = login(client, "auditor")
    rows = client.get("/api/v1/audit/stats", headers=auditor).json()["rows"]
    by_user = {(r["actor"], r["unit"]): r for r in rows}
    assert by_user[("clerk", "xh")]["allow"] >= 2  # login and read
    assert by_user[("clerk_gs", "gs")]["deny"] == 1
    unused = client.get("/api/v1/audit/unused-accounts", params={"days": 30},
                        headers=auditor).json()["accounts"]
    names = [a["username"] for a in unused]
    assert "secadmin" in names and "sysadmin" in names  # never logged in
    assert "clerk" not in names and "auditor" not in names


def test_verification_names_the_newest_anchor_and_what_came_after_it(client, record) -> None:
    from archive.services.audit import anchor

    state = client.app.state
    with state.sessions.begin() as session:
        made = anchor(session, state.store)
    client.get(f"/api/v1/records/{record}", headers=login(client, "clerk"))  # after it
    verdict = client.get("/api/v1/audit/verify", headers=login(client, "auditor")).json()
    newest = verdict["newest_anchor"]
    assert verdict["ok"] is True and newest["seq"] >= made.seq
    assert newest["events_after"] == verdict["events"] - newest["seq"] > 0
    assert 0 <= newest["age_seconds"] < 600 and newest["at"]
