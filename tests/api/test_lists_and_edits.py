"""The paged lists (customers, dossiers, a dossier's records, jobs, accounts) and the edits
(PATCH of customers, dossiers and records, the retry of a failed job): every item once in
order, trimmed to the caller's units, opaque cursors, audited edits with their before and
after, personal numbers masked in the log."""

from __future__ import annotations

import base64
import json

import pytest

from ingest import CorruptFile
from tests import documents
from tests.factories import (
    add_account,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
    wait_until,
)

XH = [f"33001000{n:02d}" for n in range(1, 8)]  # 西湖供电所's customers
GS = ["3300200001", "3300200002"]  # 拱墅供电所's


def pages(client, path: str, headers: dict, **params) -> list[dict]:
    """Every page of a list, following ``next`` to the end."""
    found, cursor = [], None
    while True:
        response = client.get(path, headers=headers,
                              params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        found.append(body)
        cursor = body["next"]
        if cursor is None:
            return found
        assert len(found) < 50, "the cursor does not move on"


def events(client, **filters) -> list[dict]:
    response = client.get("/api/v1/audit/events", headers=login(client, "auditor"),
                          params={"limit": 1000, **filters})
    assert response.status_code == 200, response.text
    return response.json()["events"]


@pytest.fixture
def customers(client) -> dict:
    archivist = login(client, "archivist")
    for n, account in enumerate(XH):
        create_customer(client, archivist, account, unit="xh", name=f"西湖{n}号明达纺织")
    for account in GS:
        create_customer(client, archivist, account, unit="gs", name="拱墅明达电器")
    return {"archivist": archivist}


def test_paging_customers_gives_each_once_in_order_and_only_the_callers(client,
                                                                        customers) -> None:
    """GIVEN 7 customers of 西湖 and 2 of 拱墅 WHEN 西湖's clerk pages with limit 3 THEN
    three pages (3, 3, 1) give each 西湖 customer once, by 户号, and none of 拱墅's."""
    clerk = login(client, "clerk")
    found = pages(client, "/api/v1/customers", clerk, limit=3)
    assert [len(page["items"]) for page in found] == [3, 3, 1]
    accounts = [c["account"] for page in found for c in page["items"]]
    assert accounts == XH
    assert {c["unit"] for page in found for c in page["items"]} == {"xh"}
    # 拱墅's clerk sees its own two and nothing of 西湖
    other = pages(client, "/api/v1/customers", login(client, "clerk_gs"), limit=3)
    assert [c["account"] for page in other for c in page["items"]] == GS
    # the parent unit's archivist sees both
    every = pages(client, "/api/v1/customers", customers["archivist"], limit=200)
    assert [c["account"] for page in every for c in page["items"]] == XH + GS


def test_type_ahead_by_account_prefix_or_name(client, customers) -> None:
    archivist = customers["archivist"]

    def accounts(**params) -> list[str]:
        response = client.get("/api/v1/customers", headers=archivist, params=params)
        assert response.status_code == 200, response.text
        return [c["account"] for c in response.json()["items"]]

    assert accounts(q="3300100") == XH
    assert accounts(q="33001000", limit=2) == XH[:2]
    assert accounts(q="3300200") == GS
    assert accounts(q="明达电器") == GS
    assert accounts(q="西湖3号") == [XH[3]]
    assert accounts(q="明达", unit="gs") == GS
    assert accounts(q="明达", customer_class="高压") == []
    assert accounts(q="9999") == []
    assert accounts(q="%") == []  # a wildcard is a character like any other
    # 拱墅's clerk finds nothing of 西湖, however asked
    gs = client.get("/api/v1/customers", headers=login(client, "clerk_gs"),
                    params={"q": "3300100"}).json()
    assert gs == {"items": [], "next": None}


def test_listed_customers_are_masked_as_their_read(client, customers) -> None:
    clerk = login(client, "clerk")  # no personal-information clearance
    listed = client.get("/api/v1/customers", headers=clerk, params={"q": XH[0]}).json()
    read = client.get(f"/api/v1/customers/{XH[0]}", headers=clerk).json()
    assert listed["items"] == [read]
    assert read["phone"] == "138****1234" and "*" in read["id_number"]
    unmasked = client.get("/api/v1/customers", headers=customers["archivist"],
                          params={"q": XH[0]}).json()["items"][0]
    assert unmasked["phone"] == "13800001234"


@pytest.mark.parametrize("path", ["/api/v1/customers", "/api/v1/dossiers", "/api/v1/jobs",
                                  "/api/v1/transfers", "/api/v1/accounts"])
def test_a_bad_cursor_or_limit_is_refused(client, path) -> None:
    headers = login(client, "sysadmin" if path.endswith("accounts") else "archivist")
    foreign = base64.urlsafe_b64encode(json.dumps(["other-list", "x"]).encode()).decode()
    for params in ({"cursor": "not-a-cursor"}, {"cursor": "e30"}, {"cursor": foreign},
                   {"cursor": "a" * 600}, {"limit": 0}, {"limit": 201}):
        response = client.get(path, headers=headers, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"] in ("invalid_input", "validation_error"), response.text


@pytest.fixture
def dossiers(client, customers) -> dict:
    archivist = customers["archivist"]
    xh = [create_dossier(client, archivist, XH[0], category=category)["id"]
          for category in ("业扩报装", "变更用电", "电能计量", "用电检查", "抄核收")]
    gs = create_dossier(client, archivist, GS[0])["id"]
    return {"xh": xh, "gs": gs}


def test_paging_dossiers_newest_first_trimmed_to_the_unit(client, dossiers) -> None:
    clerk = login(client, "clerk")
    found = pages(client, "/api/v1/dossiers", clerk, limit=2)
    assert [len(page["items"]) for page in found] == [2, 2, 1]
    listed = [d for page in found for d in page["items"]]
    assert [d["id"] for d in listed] == dossiers["xh"][::-1]  # newest first
    assert all(d["unit"] == "xh" and d["record_count"] == 0 for d in listed)
    assert "records" not in listed[0]
    read = client.get(f"/api/v1/dossiers/{listed[0]['id']}", headers=clerk).json()
    assert {k: v for k, v in read.items() if k != "records"} == {
        k: v for k, v in listed[0].items() if k != "record_count"}
    gs = pages(client, "/api/v1/dossiers", login(client, "clerk_gs"))
    assert [d["id"] for page in gs for d in page["items"]] == [dossiers["gs"]]
    # filters: customer, category, unit, and q on the 档号 or the customer
    archivist = login(client, "archivist")

    def ids(**params) -> list[str]:
        response = client.get("/api/v1/dossiers", headers=archivist, params=params)
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()["items"]]

    assert ids(customer=GS[0]) == [dossiers["gs"]]
    assert ids(category="电能计量") == [dossiers["xh"][2]]
    assert ids(unit="gs") == [dossiers["gs"]]
    assert ids(q=listed[0]["archive_number"]) == [listed[0]["id"]]
    assert ids(q="拱墅明达") == [dossiers["gs"]]
    assert ids(q=XH[0]) == dossiers["xh"][::-1]


def test_a_dossier_s_records_paged_in_filing_order(client, dossiers) -> None:
    archivist = login(client, "archivist")
    dossier = dossiers["xh"][0]
    filed = []
    for n in range(3):
        ids = upload(client, archivist, dossier, documents.text_pdf([f"供用电合同 第{n}份"]),
                     title=f"供用电合同 第{n}份").json()
        assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
        filed.append(ids["record_id"])
    clerk = login(client, "clerk")
    found = pages(client, f"/api/v1/dossiers/{dossier}/records", clerk, limit=1)
    assert [r["id"] for page in found for r in page["items"]] == filed
    assert found[0]["items"][0]["title"] == "供用电合同 第0份"
    listed = client.get("/api/v1/dossiers", headers=clerk, params={"customer": XH[0],
                                                                   "category": "业扩报装"})
    assert listed.json()["items"][0]["record_count"] == 3
    other = login(client, "clerk_gs")
    response = client.get(f"/api/v1/dossiers/{dossier}/records", headers=other)
    assert response.status_code == 404  # another unit's dossier is not disclosed
    assert client.get(f"/api/v1/dossiers/{dossier}/records", headers=clerk,
                      params={"cursor": "junk"}).status_code == 422


def test_paging_jobs_newest_first_with_the_status_filter(client, dossiers) -> None:
    archivist = login(client, "archivist")
    jobs = []
    for n in range(3):
        ids = upload(client, archivist, dossiers["xh"][0],
                     documents.text_pdf([f"用电申请书 {n}"]), doc_type="用电申请书").json()
        wait_for_job(client, archivist, ids["job_id"])
        jobs.append(ids["job_id"])
    found = pages(client, "/api/v1/jobs", archivist, limit=1)
    assert [j["id"] for page in found for j in page["items"]] == jobs[::-1]
    assert pages(client, "/api/v1/jobs", archivist, status="failed") == [
        {"items": [], "next": None}]
    done = pages(client, "/api/v1/jobs", archivist, status="done", limit=2)
    assert [j["id"] for page in done for j in page["items"]] == jobs[::-1]


def test_editing_a_customer_is_audited_with_masked_before_and_after(client, customers
                                                                    ) -> None:
    archivist = customers["archivist"]
    account = XH[0]
    response = client.patch(f"/api/v1/customers/{account}", headers=archivist, json={
        "name": "杭州明达纺织集团有限公司", "phone": "13900005678", "voltage": "0.4kV"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "杭州明达纺织集团有限公司" and changed["phone"] == "13900005678"
    assert client.get(f"/api/v1/customers/{account}", headers=archivist).json() == changed
    [event] = events(client, action="customer:update")
    assert event["actor"] == "archivist" and event["object_id"] == account
    # only what changed (the voltage was 0.4kV already), the phone masked on both sides
    assert event["details"] == {
        "before": {"name": "西湖0号明达纺织", "phone": "138****1234"},
        "after": {"name": "杭州明达纺织集团有限公司", "phone": "139****5678"}}
    raw = json.dumps(events(client), ensure_ascii=False)
    assert "13900005678" not in raw and "13800001234" not in raw
    # the ID number is masked too, and checked as at registration
    assert client.patch(f"/api/v1/customers/{account}", headers=archivist,
                        json={"id_number": "33010619900101345x"}).status_code == 200
    [_, second] = events(client, action="customer:update")
    assert second["details"]["after"]["id_number"].count("*") >= 8
    for body in ({"id_number": "123"}, {"phone": "call me"}, {"name": " "},
                 {"customer_class": "中压"}, {"unit": "gs"}, {"account": "3300999999"}, {},
                 {"name": None}):
        refused = client.patch(f"/api/v1/customers/{account}", headers=archivist, json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert len(events(client, action="customer:update")) == 2


def test_edits_are_refused_to_a_clerk_and_hidden_from_another_unit(client, dossiers,
                                                                   settings) -> None:
    archivist = login(client, "archivist")
    ids = upload(client, archivist, dossiers["xh"][0], documents.text_pdf(["供用电合同 甲"])
                 ).json()
    wait_for_job(client, archivist, ids["job_id"])
    clerk = login(client, "clerk")
    for path, body in ((f"/api/v1/customers/{XH[0]}", {"name": "改名"}),
                       (f"/api/v1/dossiers/{dossiers['xh'][0]}", {"room": "A1"}),
                       (f"/api/v1/records/{ids['record_id']}", {"title": "改名"})):
        assert client.patch(path, headers=clerk, json=body).status_code == 403, path
    add_account(settings, "archivist_gs", role="archivist", unit="gs")
    other = login(client, "archivist_gs")
    for path, body in ((f"/api/v1/customers/{XH[0]}", {"name": "改名"}),
                       (f"/api/v1/dossiers/{dossiers['xh'][0]}", {"room": "A1"}),
                       (f"/api/v1/records/{ids['record_id']}", {"title": "改名"}),
                       ("/api/v1/customers/3300999999", {"name": "改名"})):
        assert client.patch(path, headers=other, json=body).status_code == 404, path
    assert events(client, action="customer:update") == []
    assert events(client, action="record:update") == []


def test_editing_a_dossier(client, dossiers) -> None:
    archivist = login(client, "archivist")
    dossier = dossiers["xh"][0]  # 业扩报装, retention code Y
    response = client.patch(f"/api/v1/dossiers/{dossier}", headers=archivist, json={
        "category": "变更用电", "room": "A2", "shelf": "3", "box": "12"})
    assert response.status_code == 200, response.text
    assert response.json()["category"] == "变更用电"
    assert response.json()["location"] == "A2 / 3 / 12"
    [event] = events(client, action="dossier:update")
    assert event["details"] == {
        "before": {"category": "业扩报装", "room": "", "shelf": "", "box": ""},
        "after": {"category": "变更用电", "room": "A2", "shelf": "3", "box": "12"}}
    # the 档号 carries the retention code: a D30 category would contradict it
    refused = client.patch(f"/api/v1/dossiers/{dossier}", headers=archivist,
                           json={"category": "电能计量"})
    assert refused.status_code == 409 and "Y" in refused.json()["detail"]
    for body in ({"category": "其他类"}, {"security_level": "绝密"}, {"archive_number": "x"},
                 {}, {"room": "x" * 33}):
        assert client.patch(f"/api/v1/dossiers/{dossier}", headers=archivist,
                            json=body).status_code == 422, body
    read = client.get(f"/api/v1/dossiers/{dossier}", headers=archivist).json()
    assert read["category"] == "变更用电" and read["location"] == "A2 / 3 / 12"


def test_editing_a_record_is_audited_and_search_sees_it(client, dossiers) -> None:
    archivist = login(client, "archivist")
    ids = upload(client, archivist, dossiers["xh"][0], documents.text_pdf(["供用电合同 乙"]),
                 title="供用电合同", doc_date="2023-05-04").json()
    assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
    record = ids["record_id"]
    before = client.get(f"/api/v1/records/{record}", headers=archivist).json()
    assert before["retention_period"] == "Y" and before["retain_until"] is None
    response = client.patch(f"/api/v1/records/{record}", headers=archivist, json={
        "title": "高压供用电合同（续签） 联系电话13800001234", "doc_type": "客户信息变更单",
        "doc_date": "2021-03-01", "security_level": "受限"})
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["doc_type"] == "客户信息变更单" and after["security_level"] == "受限"
    assert after["doc_date"] == "2021-03-01"
    # 客户信息变更单 keeps 30 years, but an edit never brings destruction nearer: still 永久
    assert after["retention_period"] == "Y" and after["retain_until"] is None
    [event] = events(client, action="record:update")
    assert event["details"]["before"] == {
        "title": "供用电合同", "doc_type": "供用电合同", "doc_date": "2023-05-04",
        "security_level": "内部"}
    assert event["details"]["after"]["title"] == "高压供用电合同（续签） 联系电话138****1234"
    assert event["details"]["after"]["security_level"] == "受限"
    # indexed right after the commit; under load the backend may take it a moment later
    # (the change waits in the outbox for the worker loop), so ask until it is there
    def found() -> list:
        hits = client.get("/api/v1/search", headers=archivist, params={"q": "续签"}).json()
        return [(h["record_id"], h["doc_type"], h["security_level"]) for h in hits["hits"]]

    wait_until(found, 30, "the edit in the index")
    assert found() == [(record, "客户信息变更单", "受限")]
    assert client.get("/api/v1/search", headers=archivist,
                      params={"doc_type": "供用电合同"}).json()["total"] == 0
    # a record of a shorter period moves later with a type kept longer
    short = upload(client, archivist, dossiers["xh"][0], documents.text_pdf(["缴费银行委托书"]),
                   doc_type="缴费银行委托书", title="缴费银行委托书", doc_date="2020-01-02").json()
    wait_for_job(client, archivist, short["job_id"])
    kept = client.get(f"/api/v1/records/{short['record_id']}", headers=archivist).json()
    assert (kept["retention_period"], kept["retain_until"]) == ("D10", "2031-01-01")
    moved = client.patch(f"/api/v1/records/{short['record_id']}", headers=archivist,
                         json={"doc_type": "担保协议"}).json()
    assert (moved["retention_period"], moved["retain_until"]) == ("D30", "2051-01-01")
    cleared = client.patch(f"/api/v1/records/{short['record_id']}", headers=archivist,
                           json={"doc_date": None})
    assert cleared.status_code == 200 and cleared.json()["doc_date"] is None
    # a customer's new name is what its records are found by
    assert client.patch(f"/api/v1/customers/{XH[0]}", headers=archivist,
                        json={"name": "钱塘新材料有限公司"}).status_code == 200
    renamed = client.get("/api/v1/search", headers=archivist, params={"name": "钱塘新材料"})
    assert {h["record_id"] for h in renamed.json()["hits"]} == {record, short["record_id"]}
    assert {h["customer_name"] for h in renamed.json()["hits"]} == {"钱塘新材料有限公司"}
    for body in ({"doc_type": "菜单"}, {"title": " "}, {"title": "a\u202eb"},
                 {"security_level": "秘密"}, {"sha256": "0" * 64}, {}, {"title": None}):
        assert client.patch(f"/api/v1/records/{record}", headers=archivist,
                            json=body).status_code == 422, body


def test_a_level_is_set_only_within_the_editor_s_clearance(client, dossiers,
                                                           settings) -> None:
    add_account(settings, "archivist_xh", role="archivist", unit="xh", clearance="内部")
    archivist, limited = login(client, "archivist"), login(client, "archivist_xh")
    ids = upload(client, archivist, dossiers["xh"][0], documents.text_pdf(["供用电合同 丙"]),
                 security_level="受限").json()
    wait_for_job(client, archivist, ids["job_id"])
    path = f"/api/v1/records/{ids['record_id']}"
    assert client.patch(path, headers=limited, json={"security_level": "公开"}
                        ).status_code == 403  # lowering what they may not read
    assert client.patch(path, headers=limited, json={"title": "供用电合同（更正）"}
                        ).status_code == 200  # the catalogue entry is theirs to correct
    assert client.patch(path, headers=archivist, json={"security_level": "内部"}
                        ).status_code == 200
    assert client.patch(path, headers=limited, json={"security_level": "受限"}
                        ).status_code == 403  # raising it out of their own reach
    assert client.get(path, headers=archivist).json()["security_level"] == "内部"


def test_a_failed_job_is_retried_and_then_runs(client, dossiers, monkeypatch) -> None:
    """GIVEN a job failed for good (its file read as corrupt) WHEN an archivist retries
    it after the cause is gone THEN it is queued at once with its error cleared, runs to
    done, and the retry is audited with the failure it answered; a job not failed is 409."""
    from archive.services.jobs import pipeline

    def corrupt(*args, **kwargs):
        raise CorruptFile("xref table damaged")

    monkeypatch.setattr(pipeline, "extract_pages", corrupt)
    archivist = login(client, "archivist")
    ids = upload(client, archivist, dossiers["xh"][0], documents.text_pdf(["供用电合同 丁"])
                 ).json()
    failed = wait_for_job(client, archivist, ids["job_id"])
    assert failed["status"] == "failed" and "xref table damaged" in failed["error"]
    assert client.get(f"/api/v1/records/{ids['record_id']}", headers=archivist
                      ).json()["status"] == "failed"
    listed = client.get("/api/v1/jobs", headers=archivist, params={"status": "failed"}).json()
    assert [j["id"] for j in listed["items"]] == [ids["job_id"]]
    retry = f"/api/v1/jobs/{ids['job_id']}/retry"
    assert client.post(retry, headers=login(client, "clerk")).status_code == 403
    monkeypatch.undo()  # the cause is fixed
    response = client.post(retry, headers=archivist)
    assert response.status_code == 200, response.text
    queued = response.json()
    assert queued["status"] == "queued" and queued["error"] is None
    assert queued["attempts"] == 0 and queued["retry_at"] is not None
    assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
    assert client.get(f"/api/v1/records/{ids['record_id']}", headers=archivist
                      ).json()["status"] == "indexed"
    again = client.post(retry, headers=archivist)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    [event] = events(client, action="job:retry")
    assert event["object_id"] == ids["job_id"] and event["actor"] == "archivist"
    assert "xref table damaged" in event["details"]["error"]
    assert event["details"]["attempts"] == 1


def test_the_account_directory_is_the_two_administrators(client) -> None:
    for username in ("sysadmin", "secadmin"):
        found = pages(client, "/api/v1/accounts", login(client, username), limit=2)
        names = [a["username"] for page in found for a in page["items"]]
        assert names == sorted(names) and len(names) == len(set(names))
        assert {"archivist", "clerk", "auditor", "secadmin", "sysadmin"} <= set(names)
    sysadmin = login(client, "sysadmin")
    clerk = client.get("/api/v1/accounts", headers=sysadmin, params={"q": "clerk"}).json()
    assert [a["username"] for a in clerk["items"]] == ["clerk", "clerk_gs"]
    assert clerk["items"][0]["grants"] == [{"role": "staff", "unit": "xh"}]
    assert client.post("/api/v1/accounts/clerk_gs/disable", headers=sysadmin).status_code == 200
    disabled = client.get("/api/v1/accounts", headers=login(client, "secadmin"),
                          params={"active": "false"}).json()
    assert [a["username"] for a in disabled["items"]] == ["clerk_gs"]
    for username in ("archivist", "auditor", "clerk"):
        assert client.get("/api/v1/accounts", headers=login(client, username)
                          ).status_code == 403, username
