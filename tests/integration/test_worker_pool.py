"""The worker pool: a worker SIGKILLed in the middle of a job loses nothing — the job is
taken up again when its lease runs out and leaves no duplicate record, page, object or index
entry — and a file that kills its worker every time ends as a failed job with its reason."""

from __future__ import annotations

import os
import signal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from archive.app import create_app
from archive.corpus import Degradation, make_customers, make_documents, write_document
from archive.db.models import Job, Page, Record
from archive.services.access_copies import masked_copy_key
from archive.services.jobs import JobPolicy, WorkerPool, claim_next
from search import SearchQuery
from tests import documents
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_until,
)

pytestmark = pytest.mark.ocr


@pytest.fixture(params=["embedded", "services"])
def pool_settings(request, tmp_path):
    # The web app runs no worker: the test drives a pool of one process it can kill.
    with make_settings(request.param, tmp_path, embedded_worker=False, worker_processes=1,
                       job_lease_seconds=4.0) as settings:
        bootstrap(settings)
        yield settings



def _job(client, job_id: str) -> Job:
    with client.app.state.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_a_killed_worker_loses_nothing(pool_settings, tmp_path) -> None:
    from tests.services import require_tesseract

    require_tesseract()
    doc = next(d for d in make_documents(make_customers(3, seed=5), seed=5, per_customer=2)
               if len(d.pages) >= 3)
    scan = write_document(doc, tmp_path / "scan.pdf", "pdf-scan",
                          degradation=Degradation(seal=True, form_lines=True), seed=1)
    with TestClient(create_app(pool_settings)) as client:
        archivist = login(client, "archivist")
        create_customer(client, archivist, doc.customer.account, unit="xh")
        dossier = create_dossier(client, archivist, doc.customer.account)["id"]
        accepted = upload(client, archivist, dossier, scan.read_bytes(),
                          doc_type=doc.doc_type).json()
        job_id = accepted["job_id"]
        pool = WorkerPool(pool_settings)
        pool.start()
        try:
            # Kill the worker once it is inside the job, with a page read and more to go.
            running = wait_until(lambda: (j := _job(client, job_id)).pages_done >= 1 and j,
                            240, "the first page")
            assert running.status == "running" and running.pages_done < running.pages_total
            os.kill(int(running.worker.rsplit(":", 1)[1]), signal.SIGKILL)
            done = wait_until(lambda: (j := _job(client, job_id)).status in ("done", "failed")
                         and j, 600, "the job to finish")
        finally:
            pool.stop()
        assert done.status == "done", done.error
        assert done.attempts == 2  # claimed again after the lease ran out
        assert done.pages_done == done.pages_total == len(doc.pages)

        with client.app.state.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Record)) == 1
            numbers = session.scalars(select(Page.number).order_by(Page.number)).all()
            assert numbers == list(range(1, len(doc.pages) + 1))
            record = session.get(Record, accepted["record_id"])
            assert record is not None and record.status == "indexed"
            assert record.access_key is not None
            masked = masked_copy_key(record)  # its pages hold a phone and an ID number
        store = client.app.state.store
        assert list(store.keys("originals/")) == [record.original_key]
        assert sorted(store.keys("access/")) == sorted([record.access_key, masked])
        search = client.app.state.search
        search.refresh()
        assert search.search(SearchQuery()).total == 1
        text = client.get(f"/api/v1/records/{record.id}/text", headers=archivist).json()
        assert [p["number"] for p in text["pages"]] == numbers


def test_a_file_that_kills_every_worker_fails_with_its_reason(pool_settings) -> None:
    """After the last attempt's lease runs out, the job is not claimed again but failed."""
    with TestClient(create_app(pool_settings)) as client:
        archivist = login(client, "archivist")
        create_customer(client, archivist, "3300012345", unit="xh")
        dossier = create_dossier(client, archivist, "3300012345")["id"]
        accepted = upload(client, archivist, dossier, documents.text_pdf(["用电申请书"])).json()
        sessions = client.app.state.sessions
        policy = JobPolicy(max_attempts=2)
        with sessions.begin() as session:  # as a worker dying on its last attempt leaves it
            job = session.get(Job, accepted["job_id"])
            job.status, job.attempts, job.lease_until = "running", 2, None
        assert claim_next(sessions, policy, "test") is None
        failed = _job(client, accepted["job_id"])
        assert failed.status == "failed"
        assert "worker stopped during each of 2 attempts" in failed.error
        assert client.get(f"/api/v1/records/{accepted['record_id']}",
                          headers=archivist).json()["status"] == "failed"
