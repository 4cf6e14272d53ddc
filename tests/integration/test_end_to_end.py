"""End to end: generated scanned documents go in through the API and are found again by a
phrase of their ground-truth text, on the embedded and on the services backend set."""

from __future__ import annotations

import random

import pytest

from archive.corpus import Degradation, make_customers, make_documents, write_document
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job

pytestmark = pytest.mark.ocr

FORMATS = {"用电申请书": "jpeg", "供用电合同": "pdf-scan", "安全用电检查记录": "tiff",
           "计量装置装拆表工作单": "pdf-scan"}


def distinctive_phrase(doc, others) -> str:
    """The first form value on page 1 that only this document holds and that no catalogue
    field gives away, so that only the page text can match it."""
    catalogue = {doc.title, doc.customer.name, doc.customer.address, doc.customer.account}
    other_text = "\n".join("\n".join(o.pages) for o in others if o is not doc)
    for line in doc.pages[0].splitlines()[1:]:
        _, _, value = line.partition("：")
        value = value.strip()
        if (len(value) >= 6 and value not in other_text
                and not any(value in field or field in value for field in catalogue)):
            return value
    raise AssertionError(f"no distinctive value in {doc.title}")


@pytest.fixture
def corpus(tmp_path):
    customers = make_customers(2, seed=11)
    docs = make_documents(customers, seed=11, per_customer=2)
    assert {d.doc_type for d in docs} == set(FORMATS)
    rng = random.Random(11)
    files = []
    for index, doc in enumerate(docs):
        path = tmp_path / f"{index}.bin"
        # A real office scan: skewed by up to 3°, grainy, soft, JPEG-compressed, with seal.
        degradation = Degradation.scanned(rng)
        write_document(doc, path, FORMATS[doc.doc_type], degradation=degradation, seed=index)
        files.append(path)
    return customers, docs, files


def test_scanned_documents_are_found_by_their_text(client, corpus) -> None:
    from tests.services import require_tesseract

    require_tesseract()
    customers, docs, files = corpus
    archivist = login(client, "archivist")
    for customer in customers:
        create_customer(client, archivist, customer.account, name=customer.name,
                        address=customer.address, unit="xh")
    dossiers = {}
    uploaded = {}
    for doc, path in zip(docs, files, strict=True):
        key = (doc.customer.account, doc.category)
        if key not in dossiers:
            dossiers[key] = create_dossier(client, archivist, doc.customer.account,
                                           category=doc.category)["id"]
        response = upload(client, archivist, dossiers[key], path.read_bytes(),
                          filename=path.name, doc_type=doc.doc_type, title=doc.title,
                          doc_date=doc.doc_date.isoformat())
        assert response.status_code == 202, response.text
        uploaded[doc] = response.json()

    for doc, ids in uploaded.items():
        job = wait_for_job(client, archivist, ids["job_id"])
        assert job["status"] == "done", job
        text = client.get(f"/api/v1/records/{ids['record_id']}/text", headers=archivist).json()
        assert len(text["pages"]) == len(doc.pages)
        # every page read by the configured engine (no text layer in a scan)
        engine = client.app.state.settings.ingest.ocr_engine
        assert {p["source"] for p in text["pages"]} == {engine}
        copy = client.get(f"/api/v1/records/{ids['record_id']}/access-copy",
                          headers=archivist)
        assert copy.status_code == 200 and copy.content.startswith(b"%PDF")

    clerk = login(client, "clerk")
    for doc, ids in uploaded.items():
        phrase = distinctive_phrase(doc, docs)
        found = client.get("/api/v1/search", params={"q": f'"{phrase}"'}, headers=clerk).json()
        assert [h["record_id"] for h in found["hits"]] == [ids["record_id"]], (phrase, found)
        assert found["hits"][0]["highlights"], phrase
        by_account = client.get("/api/v1/search", headers=clerk,
                                params={"q": doc.customer.account}).json()
        assert ids["record_id"] in [h["record_id"] for h in by_account["hits"]]
