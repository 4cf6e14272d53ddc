"""Two worker nodes — separate ``archive worker`` processes with their own data folders, as
two machines would be — against the same Redis, PostgreSQL, MinIO and Elasticsearch. One is
SIGKILLed (with its whole process group) in the middle of a 20-page scan; the other takes
the job over, and everything the job makes exists exactly once: one record, pages 1..20
once each, one original, one access copy (and its masked copy), one index entry."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from archive.app import create_app
from archive.corpus import make_customers, make_documents, write_document
from archive.db.models import Job, Page, Record
from archive.services.access_copies import masked_copy_key
from archive.settings import Settings
from search import SearchQuery
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.ocr]
AUDIT_KEY = "worker-nodes-test-audit-key-0123456789abcdef"
PAGES = 20


def node_environment(settings: Settings, data_dir: Path) -> dict[str, str]:
    """What a worker machine is given: the shared backends' settings, its own folder."""
    minio, es, dispatch = settings.storage.minio, settings.search.elasticsearch, settings.dispatch
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return {**keep, "ARCHIVE_DATA_DIR": str(data_dir),
            "ARCHIVE_DATABASE_URL": settings.database_url,
            "ARCHIVE_AUDIT__HMAC_KEY": AUDIT_KEY, "ARCHIVE_AUDIT__ANCHOR_LOCK": "governance",
            "ARCHIVE_STORAGE__BACKEND": "minio",
            "ARCHIVE_STORAGE__MINIO__ENDPOINT": minio.endpoint,
            "ARCHIVE_STORAGE__MINIO__ACCESS_KEY": minio.access_key,
            "ARCHIVE_STORAGE__MINIO__SECRET_KEY": minio.secret_key.get_secret_value(),
            "ARCHIVE_STORAGE__MINIO__BUCKET": minio.bucket,
            "ARCHIVE_STORAGE__MINIO__OBJECT_LOCK": "true",
            "ARCHIVE_SEARCH__BACKEND": "elasticsearch",
            "ARCHIVE_SEARCH__ELASTICSEARCH__URL": es.url,
            "ARCHIVE_SEARCH__ELASTICSEARCH__ALIAS": es.alias,
            "ARCHIVE_DISPATCH__BACKEND": "dramatiq",
            "ARCHIVE_DISPATCH__REDIS_URL": dispatch.redis_url.get_secret_value(),
            "ARCHIVE_DISPATCH__NAMESPACE": dispatch.namespace,
            "ARCHIVE_DISPATCH__SWEEP_SECONDS": "1",
            "ARCHIVE_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
            "ARCHIVE_WORKER_POLL_SECONDS": "0.2"}


def start_node(settings: Settings, folder: Path) -> subprocess.Popen:
    folder.mkdir()
    archive = Path(sys.executable).parent / "archive"
    with (folder / "node.log").open("w") as log:  # the child keeps its own descriptor
        return subprocess.Popen([str(archive), "worker", "--processes", "1"], cwd=folder,
                                env=node_environment(settings, folder),
                                start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def settings(tmp_path):
    from tests import services

    services.require_tesseract()
    with make_settings("services", tmp_path, embedded_worker=False, job_lease_seconds=4.0,
                       audit={"anchor_lock": "governance", "hmac_key": AUDIT_KEY}) as built:
        bootstrap(built)
        yield built


def _job(client: TestClient, job_id: str) -> Job:
    with client.app.state.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_a_node_killed_mid_document_leaves_every_part_once(settings, tmp_path) -> None:
    doc = next(d for d in make_documents(make_customers(2, seed=7), seed=7, per_customer=2)
               if len(d.pages) >= 2)
    long = dataclasses.replace(doc, pages=tuple(doc.pages[i % len(doc.pages)]
                                                for i in range(PAGES)))
    scan = write_document(long, tmp_path / "scan.pdf", "pdf-scan", seed=3)
    nodes = {name: start_node(settings, tmp_path / name) for name in ("node-a", "node-b")}
    try:
        with TestClient(create_app(settings)) as client:
            archivist = login(client, "archivist")
            create_customer(client, archivist, long.customer.account, unit="xh")
            dossier = create_dossier(client, archivist, long.customer.account)["id"]
            accepted = upload(client, archivist, dossier, scan.read_bytes(),
                              doc_type=long.doc_type).json()
            job_id = accepted["job_id"]
            running = wait_until(lambda: (j := _job(client, job_id)).pages_done >= 3 and j,
                                 300, "three pages read")
            assert running.status == "running" and running.pages_done < PAGES
            pid = int(running.worker.rsplit(":", 1)[1])
            killed = next(name for name, node in nodes.items()
                          if pid in _process_group(node.pid))
            os.killpg(nodes[killed].pid, signal.SIGKILL)  # the machine is gone, mid-page
            done = wait_until(lambda: (j := _job(client, job_id)).status in ("done", "failed")
                              and j, 600, "the other node to finish the job")
            assert done.status == "done", done.error
            assert done.attempts == 2 and done.worker != running.worker
            assert done.pages_done == done.pages_total == PAGES

            with client.app.state.sessions() as session:
                assert session.scalar(select(func.count()).select_from(Record)) == 1
                assert session.scalar(select(func.count()).select_from(Job)) == 1
                numbers = session.scalars(select(Page.number).order_by(Page.number)).all()
                assert numbers == list(range(1, PAGES + 1))
                record = session.get(Record, accepted["record_id"])
                assert record is not None and record.status == "indexed"
                masked = masked_copy_key(record)
            store = client.app.state.store
            assert list(store.keys("originals/")) == [record.original_key]
            assert sorted(store.keys("access/")) == sorted([record.access_key, masked])
            search = client.app.state.search
            search.refresh()
            assert search.search(SearchQuery()).total == 1
    finally:
        for node in nodes.values():
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGTERM)
                node.wait(60)


def _process_group(leader: int) -> set[int]:
    """The pids of a node: its ``archive worker`` and the worker processes it spawned."""
    found = subprocess.run(["ps", "-o", "pid=", "-g", str(leader)], capture_output=True,
                           text=True).stdout.split()
    return {int(pid) for pid in found}
