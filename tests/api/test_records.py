"""Records through the API: upload, job, metadata, original, text, search; bad uploads."""

from __future__ import annotations

import hashlib

import pytest

from search import SearchQuery
from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job

CONTRACT = ["供用电合同\n供电人：国网杭州供电公司\n用电人：杭州明达纺织有限公司 户号 3300012345",
            "第八条 违约责任\n用电人有窃电行为的，供电人有权中止供电。",
            "本合同有效期三年，期满未提出异议的，自动续签。"]


@pytest.fixture
def archivist(client) -> dict:
    return login(client, "archivist")


@pytest.fixture
def dossier(client, archivist) -> dict:
    create_customer(client, archivist, "3300012345")
    return create_dossier(client, archivist, "3300012345")


def test_archive_number_is_assigned_in_sequence(client, archivist, dossier) -> None:
    second = create_dossier(client, archivist, "3300012345")
    year = dossier["created_at"][:4]
    assert dossier["archive_number"] == f"0421-KH·{year}-Y-YX-0001"
    assert second["archive_number"] == f"0421-KH·{year}-Y-YX-0002"
    other = create_dossier(client, archivist, "3300012345", category="抄核收")
    assert other["archive_number"] == f"0421-KH·{year}-D10-YX-0001"


def test_born_digital_pdf_round_trip(client, archivist, dossier) -> None:
    pdf = documents.text_pdf(CONTRACT)
    accepted = upload(client, archivist, dossier["id"], pdf, filename="合同.pdf")
    assert accepted.status_code == 202, accepted.text
    ids = accepted.json()
    job = wait_for_job(client, archivist, ids["job_id"])
    assert job["status"] == "done", job
    assert job["progress"] == 1.0

    record = client.get(f"/api/v1/records/{ids['record_id']}", headers=archivist).json()
    assert record["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert (record["page_count"], record["status"]) == (3, "indexed")
    assert record["archive_number"] == dossier["archive_number"]

    original = client.get(f"/api/v1/records/{ids['record_id']}/content", headers=archivist)
    assert original.content == pdf
    assert original.headers["content-type"] == "application/pdf"

    pages = client.get(f"/api/v1/records/{ids['record_id']}/text", headers=archivist).json()
    assert [p["number"] for p in pages["pages"]] == [1, 2, 3]
    assert "窃电行为" in pages["pages"][1]["text"]
    assert pages["pages"][0]["source"] == "text-layer"

    found = client.get("/api/v1/search", params={"q": "窃电"}, headers=archivist).json()
    assert [h["record_id"] for h in found["hits"]] == [ids["record_id"]]
    assert found["hits"][0]["highlights"][0]["page"] == 2
    by_account = client.get("/api/v1/search", params={"q": "3300012345"},
                            headers=archivist).json()
    assert [h["record_id"] for h in by_account["hits"]] == [ids["record_id"]]

    listed = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=archivist).json()
    assert [r["id"] for r in listed["records"]] == [ids["record_id"]]


def test_duplicate_original_is_refused_with_the_existing_id(client, archivist, dossier) -> None:
    pdf = documents.text_pdf(["用电申请书 户号 3300012345"])
    first = upload(client, archivist, dossier["id"], pdf, doc_type="用电申请书").json()
    again = upload(client, archivist, dossier["id"], pdf, doc_type="用电申请书")
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate_record"
    assert again.json()["record_id"] == first["record_id"]


def test_staff_of_another_station_cannot_see_the_record(client, archivist, dossier) -> None:
    ids = upload(client, archivist, dossier["id"], documents.text_pdf(CONTRACT)).json()
    wait_for_job(client, archivist, ids["job_id"])
    own = login(client, "clerk")  # 西湖供电所, where the customer is
    other = login(client, "clerk_gs")  # 拱墅供电所
    assert client.get(f"/api/v1/records/{ids['record_id']}", headers=own).status_code == 200
    assert client.get(f"/api/v1/records/{ids['record_id']}", headers=other).status_code == 404
    found = client.get("/api/v1/search", params={"q": "窃电"}, headers=other).json()
    assert found["total"] == 0 and found["hits"] == []
    customer = client.get("/api/v1/customers/3300012345", headers=own).json()
    assert customer["id_number"] == "330106********3456"
    assert customer["phone"] == "138****1234"


def stored_objects(store) -> list[str]:
    from storage.filesystem import FilesystemStore

    if isinstance(store, FilesystemStore):
        return [str(p) for p in (store.root / "data").rglob("*") if p.is_file()]
    if not store.client.bucket_exists(store.bucket):
        return []
    return [o.object_name for o in store.client.list_objects(store.bucket, recursive=True)]


def row_counts(client) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from archive.db.models import Job, Page, Record

    with client.app.state.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(t))  # type: ignore[return-value]
                     for t in (Record, Job, Page))


BAD_UPLOADS = {
    "empty": (b"", 422),
    "unsupported": (b"PK\x03\x04 this is a zip file, not a scan", 415),
    "text file": ("户号 3300012345".encode(), 415),
    "corrupt pdf": (b"%PDF-1.7\n" + b"\x00garbage" * 100, 422),
    "truncated pdf": (documents.truncated_pdf(), 422),
    "encrypted pdf": (documents.encrypted_pdf(), 422),
    "pdf without pages": (documents.empty_pdf(), 422),
    "bomb image": (documents.png_header_claiming(60000, 60000), 413),
    "absurd image dimensions": (documents.png_header_claiming(200_000, 10), 413),
    "pdf with thousands of pages": (documents.blank_pdf(1200), 413),
    "pdf page of absurd size": (documents.blank_pdf(1, width=14_400, height=14_400), 413),
    # refused from its Content-Length before the body is read
    "too large": (b"%PDF-1.4\n" + b"0" * 300_000, 413),
    # within the request allowance for form fields, so refused while spooling the file
    "just too large": (b"%PDF-1.4\n" + b"0" * 210_000, 413),
}


@pytest.fixture
def settings(backend_set, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path, max_upload_bytes=200_000) as built:
        bootstrap(built)
        yield built


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_upload_gets_4xx_and_leaves_nothing(client, archivist, dossier, name) -> None:
    content, status = BAD_UPLOADS[name]
    response = upload(client, archivist, dossier["id"], content)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    assert stored_objects(client.app.state.store) == []
    assert row_counts(client) == (0, 0, 0)
    search = client.app.state.search
    search.refresh()
    assert search.search(SearchQuery()).total == 0


def test_bad_form_fields(client, archivist, dossier) -> None:
    pdf = documents.text_pdf(["用电申请书"])
    cases = [
        ({"doc_type": "菜单"}, 422),
        ({"security_level": "绝密"}, 422),
        ({"doc_date": "04/05/2023"}, 422),
        ({"title": " "}, 422),
    ]
    for change, status in cases:
        response = upload(client, archivist, dossier["id"], pdf, **change)
        assert response.status_code == status, (change, response.text)
    assert upload(client, archivist, "no-such-dossier", pdf).status_code == 404
    missing_file = client.post("/api/v1/records", headers=archivist,
                               data={"dossier_id": dossier["id"], "doc_type": "用电申请书",
                                     "title": "t"})
    assert missing_file.status_code == 422
    assert stored_objects(client.app.state.store) == []
    assert row_counts(client) == (0, 0, 0)
