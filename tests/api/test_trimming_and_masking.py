"""Security trimming and masking of personal information, as a clerk meets them."""

from __future__ import annotations

import pytest

from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job

PAGE = ("用电申请书 户号 3300012345\n申请人 张伟 证件号码 330106199001013456\n"
        "联系电话 13800001234 缴费账号 6222021234567890123 申请新装 窃电检查")


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def records(client) -> dict[str, str]:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")
    ids = {}
    for level in ("内部", "受限"):
        pdf = documents.text_pdf([PAGE + f" 密级{level}"])
        accepted = upload(client, archivist, dossier["id"], pdf, doc_type="用电申请书",
                          title=f"用电申请书（{level}）", security_level=level).json()
        assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
        ids[level] = accepted["record_id"]
    return ids


def test_restricted_record_shows_as_restricted_with_catalogue_only(client, records) -> None:
    clerk = login(client, "clerk")  # clearance 内部, same station
    # a phrase of the page text alone finds only the record the clerk may read …
    found = client.get("/api/v1/search", params={"q": "窃电检查"}, headers=clerk).json()
    assert [h["record_id"] for h in found["hits"]] == [records["内部"]]
    # … the restricted one is found by its catalogue fields (its title), without text
    found = client.get("/api/v1/search", params={"q": "用电申请书"}, headers=clerk).json()
    by_id = {h["record_id"]: h for h in found["hits"]}
    assert found["total"] == 2
    assert by_id[records["受限"]]["access"] == "restricted"
    assert by_id[records["受限"]]["highlights"] == []
    assert by_id[records["受限"]]["title"] == "用电申请书（受限）"
    assert by_id[records["内部"]]["access"] == "granted"
    for part in ("content", "text"):
        refused = client.get(f"/api/v1/records/{records['受限']}/{part}", headers=clerk)
        assert refused.status_code == 403
    assert client.get(f"/api/v1/records/{records['受限']}", headers=clerk).status_code == 200


def test_other_station_sees_nothing_at_all(client, records) -> None:
    other = login(client, "clerk_gs")
    found = client.get("/api/v1/search", params={"q": "窃电检查"}, headers=other).json()
    assert (found["total"], found["hits"]) == (0, [])
    assert all(not counts for counts in found["facets"].values())


def test_personal_information_is_masked_without_clearance(client, records) -> None:
    clerk = login(client, "clerk")
    text = client.get(f"/api/v1/records/{records['内部']}/text", headers=clerk).json()
    page = text["pages"][0]["text"]
    assert "330106********3456" in page and "330106199001013456" not in page
    assert "138****1234" in page and "13800001234" not in page
    assert "6222***********0123" in page
    assert "3300012345" in page  # the account number is not personal information
    found = client.get("/api/v1/search", params={"q": "证件号码"}, headers=clerk).json()
    highlight = next(h for h in found["hits"] if h["record_id"] == records["内部"])
    assert "330106199001013456" not in highlight["highlights"][0]["text"]
    customer = client.get("/api/v1/customers/3300012345", headers=clerk).json()
    assert (customer["phone"], customer["id_number"]) == ("138****1234", "330106********3456")


def test_cleared_archivist_sees_the_original_text(client, records) -> None:
    archivist = login(client, "archivist")  # clearance 受限
    page = client.get(f"/api/v1/records/{records['内部']}/text",
                      headers=archivist).json()["pages"][0]["text"]
    assert "330106199001013456" in page and "13800001234" in page


def test_audit_exports_mask_personal_information(client, records) -> None:
    clerk = login(client, "clerk")
    client.get("/api/v1/search", params={"q": "330106199001013456"}, headers=clerk)
    auditor = login(client, "auditor")  # clearance 内部
    for fmt in ("json", "csv", "jsonl"):
        body = client.get("/api/v1/audit/events", params={"action": "search", "format": fmt},
                          headers=auditor).text
        assert "330106********3456" in body and "330106199001013456" not in body, fmt


def test_personal_information_needs_its_own_clearance(client, records, settings) -> None:
    """GIVEN a user cleared for 受限 records but without the personal-information clearance
    THEN they read restricted text, with personal numbers masked."""
    from archive.db.session import make_engine, make_sessionmaker
    from archive.services.accounts import add_user
    from tests.factories import PASSWORD

    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        add_user(session, username="senior", password=PASSWORD, role="staff", unit_code="xh",
                 clearance="受限")
    engine.dispose()
    senior = login(client, "senior")
    page = client.get(f"/api/v1/records/{records['受限']}/text",
                      headers=senior).json()["pages"][0]["text"]
    assert "330106********3456" in page and "330106199001013456" not in page
