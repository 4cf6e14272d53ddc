"""The smaller doors: conflicts that tell nothing of other units, bounded free text, the
headers of content and personal data, an audit address no client can forge, and searches
limited per user with their bursts audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from tests import documents
from tests.factories import (
    add_account,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
)

ACCOUNT = "3300012345"


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def test_conflicts_name_nothing_outside_the_caller_s_reach(client, settings) -> None:
    """GIVEN a customer and a record of 西湖 WHEN an archivist of 拱墅 registers the same
    户号 or uploads the same file THEN 409, with neither the customer nor the record id."""
    add_account(settings, "archivist_gs", role="archivist", unit="gs", clearance="受限")
    archivist, other = login(client, "archivist"), login(client, "archivist_gs")
    create_customer(client, archivist, ACCOUNT, unit="xh", name="杭州明达纺织有限公司")
    content = documents.text_pdf(["供用电合同 第一条"])
    first = upload(client, archivist, create_dossier(client, archivist, ACCOUNT)["id"], content)
    record_id = first.json()["record_id"]
    create_customer(client, other, "3300099999", unit="gs")
    theirs = create_dossier(client, other, "3300099999")["id"]

    taken = client.post("/api/v1/customers", headers=other, json={
        "account": ACCOUNT, "name": "x", "customer_class": "低压", "unit": "gs"})
    assert taken.status_code == 409
    assert "明达" not in taken.text and "xh" not in taken.json()["detail"]
    again = upload(client, other, theirs, content)
    assert again.status_code == 409 and "record_id" not in again.json()
    assert record_id not in again.text
    own = upload(client, archivist, create_dossier(client, archivist, ACCOUNT)["id"], content)
    assert own.status_code == 409 and own.json()["record_id"] == record_id  # within reach


def test_content_and_personal_data_are_not_cached_sniffed_or_framed(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    record = upload(client, archivist, dossier, documents.text_pdf(["供用电合同"])).json()
    for path in (f"/api/v1/records/{record['record_id']}/content",
                 f"/api/v1/customers/{ACCOUNT}", "/api/v1/search?q=合同"):
        response = client.get(path, headers=archivist)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
    docs = client.get("/docs")
    assert docs.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in docs.headers["Content-Security-Policy"]


def _audited_client(client, username: str) -> str:
    events = client.get("/api/v1/audit/events", params={"actor": username, "limit": 1000},
                        headers=login(client, "auditor")).json()["events"]
    return events[-1]["client"]


def test_the_audit_address_believes_forwarded_for_only_from_trusted_proxies(
        settings) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9"}
    with TestClient(create_app(settings), client=("198.51.100.7", 40000)) as direct:
        direct.get("/api/v1/search", headers={**login(direct, "clerk"), **forged})
        assert _audited_client(direct, "clerk") == "198.51.100.7"
    settings.trusted_proxies = ["10.0.0.0/8"]
    with TestClient(create_app(settings), client=("10.1.2.3", 40000)) as proxied:
        headers = {**login(proxied, "clerk"),
                   "X-Forwarded-For": "203.0.113.9, 192.0.2.44, 10.9.9.9"}
        proxied.get("/api/v1/search", headers=headers)
        # the nearest address the trusted proxies did not add themselves
        assert _audited_client(proxied, "clerk") == "192.0.2.44"


def test_searches_are_limited_per_user_and_a_burst_is_audited_once(tmp_path) -> None:
    from tests.factories import bootstrap

    with make_settings("embedded", tmp_path, search_rate_limit="5/minute") as settings:
        bootstrap(settings)
        with TestClient(create_app(settings)) as client:
            clerk, other = login(client, "clerk"), login(client, "clerk_gs")
            answers = [client.get("/api/v1/search", params={"q": f"13957{n:04d}6341"},
                                  headers=clerk) for n in range(12)]
            assert [a.status_code for a in answers] == [200] * 5 + [429] * 7
            refused = answers[-1]
            assert refused.json()["error"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) > 0
            assert client.get("/api/v1/search", headers=other).status_code == 200  # per user
            events = client.get("/api/v1/audit/events", params={
                "actor": "clerk", "decision": "deny", "limit": 100},
                headers=login(client, "auditor")).json()["events"]
            assert len(events) == 1 and "too many searches" in events[0]["reason"]


def test_error_details_mask_what_they_quote(client) -> None:
    """A hold's reason holding an ID number comes back masked in the 409 of a deletion to
    an archivist without the clearance."""
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    assert client.post(f"/api/v1/dossiers/{dossier}/hold", headers=archivist,
                       json={"reason": "诉讼 当事人 330106199001013456"}).status_code == 201
    again = client.post(f"/api/v1/dossiers/{dossier}/hold", headers=login(client, "clerk"),
                        json={"reason": "再次 330106199001013456"})
    assert again.status_code == 403
    assert "330106199001013456" not in again.text


def test_forged_cursors_and_huge_numbers_are_refused(client) -> None:
    clerk, auditor = login(client, "clerk"), login(client, "auditor")
    import base64

    big = base64.urlsafe_b64encode(f'[{10 ** 30}, "x"]'.encode()).decode().rstrip("=")
    for after in ("W3siYSI6MX0sW11d", "W1tdLFtdXQ", big):
        for q in ("合同", None):
            response = client.get("/api/v1/search", params={"q": q, "after": after},
                                  headers=clerk)
            assert response.status_code == 422, (after, q, response.text)
    huge = client.get("/api/v1/audit/events", params={"after": 2 ** 63}, headers=auditor)
    assert huge.status_code == 422


def test_nul_characters_and_oversized_bodies_are_refused_at_the_door(client) -> None:
    archivist = login(client, "archivist")
    body = {"account": "3300012399", "name": "张\u0000伟", "customer_class": "低压",
            "unit": "xh"}
    assert client.post("/api/v1/customers", json=body, headers=archivist).status_code == 422
    assert client.get("/api/v1/audit/events", params={"actor": "a\x00b"},
                      headers=login(client, "auditor")).status_code == 422
    assert client.post("/api/v1/auth/token", data={"username": "x\x00", "password": "y"}
                       ).status_code == 422
    flood = {"account": "3300012399", "name": "张伟", "customer_class": "低压", "unit": "xh",
             "address": "路" * (2 * 1024 * 1024)}
    refused = client.post("/api/v1/customers", json=flood, headers=archivist)
    assert refused.status_code == 413 and refused.json()["error"] == "payload_too_large"

    def streamed():  # no Content-Length: counted as it arrives
        yield b'{"account": "3300012399", "address": "'
        for _ in range(64):
            yield b"x" * 65536
        yield b'"}'

    refused = client.post("/api/v1/customers", content=streamed(), headers={
        **archivist, "Content-Type": "application/json"})
    assert refused.status_code == 413
    assert client.get("/api/v1/customers/3300012399", headers=archivist).status_code == 404


def test_uploads_take_no_control_characters(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    refused = upload(client, archivist, dossier, documents.text_pdf(["供用电合同"]),
                     title="a\x00b")
    assert refused.status_code == 422
    accepted = upload(client, archivist, dossier, documents.text_pdf(["供用电合同 第二条"]),
                      filename="x\u202egpj\u200b.pdf", title="供用电合同\u3000（副本）")
    assert accepted.status_code == 202, accepted.text
    record = client.get(f"/api/v1/records/{accepted.json()['record_id']}",
                        headers=archivist).json()
    assert record["original_filename"] == "xgpj.pdf" and "\u3000" in record["title"]


def test_a_filename_keeps_its_last_part_without_control_characters() -> None:
    from archive.services.records import clean_filename

    assert clean_filename("..\\..\\x\x00\u202egpj.pdf") == "xgpj.pdf"
    assert clean_filename("/etc/passwd") == "passwd"
    assert len(clean_filename("合" * 400 + ".pdf")) == 255


def test_a_cursor_of_unencodable_text_is_refused(client) -> None:
    import base64

    clerk = login(client, "clerk")
    for values in ('["2025-01-02", "\\ud800"]', '[1, "\\ud800"]', '[1.0, "2025-01-02", "\\ud800"]',
                   '["2025-01-02", "a\\u0000"]'):
        after = base64.urlsafe_b64encode(values.encode()).decode().rstrip("=")
        for q in ("合同", None):
            response = client.get("/api/v1/search", params={"q": q, "after": after},
                                  headers=clerk)
            assert response.status_code == 422, (values, q, response.text)
