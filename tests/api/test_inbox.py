"""The inbox (待归档): a document auto-filing could not place waits for an archivist, who
files it by hand; the record is then found like any other."""

from __future__ import annotations

import io

import pytest

from archive.services.audit import Trail
from archive.services.inbox import accept_to_inbox
from archive.services.jobs import JobContext, Worker
from tests import documents
from tests.factories import create_customer, login


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend_set, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path, embedded_worker=False) as built:
        bootstrap(built)
        yield built


def _receive(client, settings, content: bytes, name: str) -> str:
    from archive.services.accounts import actor_for

    state = client.app.state
    with state.sessions() as session:
        actor = actor_for(session, "archivist", state.authorizer)
    item, _ = accept_to_inbox(state.sessions, actor=actor, stream=io.BytesIO(content),
                              filename=name, store=state.store, ingest_settings=settings.ingest,
                              max_bytes=settings.max_upload_bytes,
                              spool_dir=settings.data_dir / "spool",
                              trail=Trail(settings.audit.key, actor, "test"))
    Worker(JobContext.of(settings, sessions=state.sessions, store=state.store,
                         search=state.search, authorizer=state.authorizer)).run_pending()
    return item.id


def test_an_archivist_files_what_waits(client, settings) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345", unit="xh")
    item_id = _receive(client, settings, documents.text_pdf(
        ["会议纪要\n配电房改造 户主张伟 联系电话 13800001234"]), "minutes.pdf")

    waiting = client.get("/api/v1/inbox", headers=archivist).json()
    assert [i["id"] for i in waiting] == [item_id]
    assert waiting[0]["reason"].startswith("文件类型 not recognised")
    assert "配电房改造" in waiting[0]["preview"]
    assert client.get("/api/v1/inbox", headers=login(client, "clerk")).status_code == 403

    bad = client.post(f"/api/v1/inbox/{item_id}/file", headers=archivist, json={
        "customer_account": "3300012345", "doc_type": "会议纪要", "title": "会议纪要"})
    assert bad.status_code == 422
    filed = client.post(f"/api/v1/inbox/{item_id}/file", headers=archivist, json={
        "customer_account": "3300012345", "doc_type": "其他", "title": "配电房改造会议纪要",
        "doc_date": "2024-05-06"})
    assert filed.status_code == 201, filed.text
    record_id = filed.json()["record_id"]
    assert filed.json()["status"] == "filed"
    again = client.post(f"/api/v1/inbox/{item_id}/file", headers=archivist, json={
        "customer_account": "3300012345", "doc_type": "其他", "title": "again"})
    assert again.status_code == 409
    assert client.get("/api/v1/inbox", headers=archivist).json() == []

    record = client.get(f"/api/v1/records/{record_id}", headers=archivist).json()
    assert (record["doc_type"], record["doc_date"], record["status"]) == (
        "其他", "2024-05-06", "indexed")
    found = client.get("/api/v1/search", params={"q": "配电房改造"},
                       headers=login(client, "clerk")).json()
    assert [h["record_id"] for h in found["hits"]] == [record_id]


def test_the_same_file_twice_is_a_duplicate(client, settings) -> None:
    from archive.errors import DuplicateRecord

    content = documents.text_pdf(["用电申请书 户号：3300012345"])
    _receive(client, settings, content, "a.pdf")
    with pytest.raises(DuplicateRecord):
        _receive(client, settings, content, "b.pdf")
