"""The inbox (待归档): a document auto-filing could not place waits for an archivist, who
sees its pages and files it by hand; the record is then found like any other."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from archive.db.models import InboxItem
from archive.services.audit import Trail
from archive.services.inbox import accept_to_inbox
from archive.services.jobs import JobContext, Worker
from tests import documents
from tests.factories import add_account, create_customer, login


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend_set, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path, embedded_worker=False) as built:
        bootstrap(built)
        yield built


def _receive(client, settings, content: bytes, name: str, *, read: bool = True,
             security_level: str = "内部") -> str:
    from archive.services.accounts import actor_for

    state = client.app.state
    with state.sessions() as session:
        actor = actor_for(session, "archivist", state.authorizer)
    item, _ = accept_to_inbox(state.sessions, actor=actor, stream=io.BytesIO(content),
                              filename=name, store=state.store, ingest_settings=settings.ingest,
                              max_bytes=settings.max_upload_bytes,
                              spool_dir=settings.data_dir / "spool",
                              trail=Trail(settings.audit.key, actor, "test"),
                              security_level=security_level)
    if read:
        Worker(JobContext.of(settings, sessions=state.sessions, store=state.store,
                             search=state.search, authorizer=state.authorizer)).run_pending()
    return item.id


def _copy(client, headers: dict, item_id: str):
    return client.get(f"/api/v1/inbox/{item_id}/access-copy", headers=headers)


def _audited(client, **filters) -> list[dict]:
    answer = client.get("/api/v1/audit/events", params={"limit": 1000, **filters},
                        headers=login(client, "auditor"))
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


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


MINUTES = ["会议纪要\n配电房改造 户主张伟 联系电话 13800001234", "第二页 会议决定 改造工期"]


def test_the_archivist_sees_the_pages_of_what_waits(client, settings) -> None:
    """GIVEN a born-digital PDF of two pages waiting in the inbox WHEN the archivist (who
    may see personal information) asks for its access copy THEN the PDF itself comes back,
    its two pages whole, and the read is in the audit log before the answer."""
    archivist = login(client, "archivist")
    item_id = _receive(client, settings, documents.text_pdf(MINUTES), "minutes.pdf")

    copy = _copy(client, archivist, item_id)
    assert copy.status_code == 200, copy.text
    assert copy.headers["content-type"] == "application/pdf"
    assert int(copy.headers["content-length"]) == len(copy.content)
    reader = PdfReader(io.BytesIO(copy.content))
    assert len(reader.pages) == 2
    assert "13800001234" in reader.pages[0].extract_text()  # unmasked: for the cleared
    events = _audited(client, action="inbox:access-copy", object_id=item_id)
    assert [(e["actor"], e["decision"]) for e in events] == [("archivist", "allow")]


def test_the_access_copy_made_when_read_is_shown_before_the_original(client, settings) -> None:
    """GIVEN an item whose reading stored an access copy (a scan's searchable PDF) WHEN its
    pages are asked for THEN that copy comes back, not the original."""
    archivist = login(client, "archivist")
    item_id = _receive(client, settings, documents.text_pdf(["第一页 无户号"]), "scan.pdf")
    state = client.app.state
    key = f"access/test/{item_id}.pdf"
    state.store.put(key, io.BytesIO(documents.text_pdf(["一", "二", "三"])),
                    content_type="application/pdf")
    with state.sessions.begin() as session:
        session.get(InboxItem, item_id).access_key = key

    copy = _copy(client, archivist, item_id)
    assert copy.status_code == 200, copy.text
    assert len(PdfReader(io.BytesIO(copy.content)).pages) == 3
    assert "scan.searchable.pdf" in copy.headers["content-disposition"]


def test_pages_are_refused_to_who_may_not_see_personal_information(client, settings) -> None:
    """GIVEN an archivist of the item's unit without the personal-information clearance
    WHEN they ask for the pages THEN 403 with the reason in Chinese and English (no masked
    copy of an inbox item exists), no read in the audit log but the refusal; their list
    still shows the text masked."""
    item_id = _receive(client, settings, documents.text_pdf(MINUTES), "minutes.pdf")
    add_account(settings, "archivist_np", role="archivist", unit="hz", clearance="受限",
                personal_info=False)
    uncleared = login(client, "archivist_np")

    refused = _copy(client, uncleared, item_id)
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["error"] == "forbidden"
    assert "个人信息" in body["detail"] and "personal information" in body["detail"]
    assert "13800001234" not in refused.text
    assert _audited(client, action="inbox:access-copy") == []
    denials = _audited(client, actor="archivist_np", decision="deny")
    assert [e["action"] for e in denials] == ["GET /inbox/{item_id}/access-copy"]
    listed = client.get("/api/v1/inbox", headers=uncleared).json()
    assert [i["id"] for i in listed] == [item_id]
    assert "13800001234" not in listed[0]["preview"]


def test_pages_above_the_clearance_are_refused(client, settings) -> None:
    item_id = _receive(client, settings, documents.text_pdf(["受限 会议纪要"]), "secret.pdf",
                       security_level="受限")
    add_account(settings, "archivist_low", role="archivist", unit="hz", clearance="内部",
                personal_info=True)
    refused = _copy(client, login(client, "archivist_low"), item_id)
    assert refused.status_code == 403, refused.text
    assert "密级" in refused.json()["detail"]
    assert _copy(client, login(client, "archivist"), item_id).status_code == 200


def test_another_units_item_and_other_roles_are_refused(client, settings) -> None:
    """GIVEN an item of 杭州供电公司's inbox WHEN an archivist of 拱墅供电所 (cleared for
    everything) asks for its pages, or for a made-up id THEN the same 404 as filing it
    answers; a clerk of the unit, whose role files nothing, gets 403."""
    item_id = _receive(client, settings, documents.text_pdf(MINUTES), "minutes.pdf")
    add_account(settings, "archivist_gs", role="archivist", unit="gs", clearance="受限",
                personal_info=True)
    other = login(client, "archivist_gs")

    hidden = _copy(client, other, item_id)
    assert hidden.status_code == 404, hidden.text
    filing = client.post(f"/api/v1/inbox/{item_id}/file", headers=other, json={
        "customer_account": "3300012345", "doc_type": "其他", "title": "x"})
    assert filing.status_code == hidden.status_code
    missing = _copy(client, other, "0" * 32)
    assert (missing.status_code, missing.json()["detail"]) == (
        404, hidden.json()["detail"].replace(item_id, "0" * 32))
    assert _copy(client, login(client, "clerk"), item_id).status_code == 403
    assert _copy(client, login(client, "auditor"), item_id).status_code == 403
    assert _audited(client, action="inbox:access-copy") == []


def test_no_pages_before_the_item_is_read_nor_once_it_is_filed(client, settings) -> None:
    archivist = login(client, "archivist")
    unread = _receive(client, settings, documents.text_pdf(["待识别"]), "later.pdf",
                      read=False)
    early = _copy(client, archivist, unread)
    assert early.status_code == 409, early.text
    assert early.json()["error"] == "conflict" and "received" in early.json()["detail"]

    create_customer(client, archivist, "3300012345", unit="xh")
    item_id = _receive(client, settings, documents.text_pdf(MINUTES), "minutes.pdf")
    filed = client.post(f"/api/v1/inbox/{item_id}/file", headers=archivist, json={
        "customer_account": "3300012345", "doc_type": "其他", "title": "会议纪要"})
    assert filed.status_code == 201, filed.text
    late = _copy(client, archivist, item_id)
    assert late.status_code == 409
    assert filed.json()["record_id"] in late.json()["detail"]
    assert _audited(client, action="inbox:access-copy") == []
