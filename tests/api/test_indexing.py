"""Indexing never stalls: pages without words index as empty, a record the search backend
refuses goes to the dead-letter list with its reason, and every later record is found."""

from __future__ import annotations

import time

from archive.db.models import Page, Record
from archive.db.session import make_engine, make_sessionmaker
from archive.services.indexing import enqueue
from search.base import MAX_PAGES
from tests import documents
from tests.factories import (
    add_account,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)

ACCOUNT = "3300012345"


def _file(client, headers, dossier: str, content: bytes, title: str) -> str:
    accepted = upload(client, headers, dossier, content, title=title)
    assert accepted.status_code == 202, accepted.text
    assert wait_for_job(client, headers, accepted.json()["job_id"])["status"] == "done"
    return accepted.json()["record_id"]


def _found(client, headers, query: str, timeout: float = 10) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        hits = client.get("/api/v1/search", params={"q": query}, headers=headers).json()["hits"]
        if hits or time.monotonic() > deadline:
            return {hit["record_id"] for hit in hits}
        time.sleep(0.2)


def test_blank_pages_and_a_refused_record_stop_no_later_record(client, settings) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    blank = _file(client, archivist, dossier, documents.blank_pdf(1), "空白扫描件")
    marks = _file(client, archivist, dossier, documents.text_pdf(["。，、——！？"]), "只有标点")
    # a record the index cannot take: more pages than any backend indexes
    refused = _file(client, archivist, dossier, documents.text_pdf(["页"]), "超长卷宗")
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        record = session.get(Record, refused)
        session.add_all(Page(record_id=refused, number=n, text="页", source="text")
                        for n in range(2, MAX_PAGES + 2))
        record.page_count = MAX_PAGES + 1
        enqueue(session, refused)
    engine.dispose()
    later = [_file(client, archivist, dossier, documents.text_pdf([f"第{n}份 窃电 {word}"]),
                   f"后来的记录{n}") for n, word in enumerate(("甲方", "乙方", "丙方"))]
    assert _found(client, archivist, "窃电") == set(later)
    assert _found(client, archivist, "空白扫描件") == {blank}
    assert _found(client, archivist, "只有标点") == {marks}
    listed = client.get("/api/v1/jobs/refused", headers=archivist)
    assert listed.status_code == 200
    assert [entry["record_id"] for entry in listed.json()] == [refused]
    assert "pages" in listed.json()[0]["reason"] and listed.json()[0]["title"] == "超长卷宗"
    # each archivist sees the records of their own units only; a clerk none
    add_account(settings, "gs_archivist", role="archivist", unit="gs")
    assert client.get("/api/v1/jobs/refused", headers=login(client, "gs_archivist")).json() == []
    assert client.get("/api/v1/jobs/refused", headers=login(client, "clerk")).status_code == 403
