"""Elasticsearch goes down during uploads: the uploads succeed, the changes wait in the
outbox, and every record is found once it is back. Stops and starts the real node through
``scripts/services.sh``, so it runs where that script started the services (CI)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from tests.documents import text_pdf
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_for_job,
)

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"


def elasticsearch(command: str) -> None:
    subprocess.run(["bash", str(SERVICES), command], check=True, timeout=300)


def upload_contract(client: TestClient, headers: dict, dossier_id: str, phrase: str) -> str:
    response = upload(client, headers, dossier_id,
                      text_pdf([f"供用电合同 第八条 违约责任 {phrase} 自动续签"]),
                      filename=f"{phrase}.pdf", title=f"供用电合同 {phrase}")
    assert response.status_code == 202, response.text
    body = response.json()
    assert wait_for_job(client, headers, body["job_id"], timeout=120)["status"] == "done"
    return body["record_id"]


def found(client: TestClient, headers: dict) -> set[str]:
    response = client.get("/api/v1/search", params={"q": "违约责任", "size": 100},
                          headers=headers)
    assert response.status_code == 200, response.text
    return {hit["record_id"] for hit in response.json()["hits"]}


def test_uploads_survive_an_elasticsearch_outage_and_are_indexed_after(tmp_path) -> None:
    with make_settings("services", tmp_path) as settings:
        bootstrap(settings)
        with TestClient(create_app(settings)) as client:
            archivist = login(client, "archivist")
            create_customer(client, archivist, "3300055501")
            dossier = create_dossier(client, archivist, "3300055501")["id"]
            before = {upload_contract(client, archivist, dossier, f"甲{i}号")
                      for i in range(2)}
            assert found(client, archivist) == before

            elasticsearch("es-stop")
            try:
                during = {upload_contract(client, archivist, dossier, f"乙{i}号")
                          for i in range(3)}
                for record_id in during:  # filed and readable, only not yet searchable
                    record = client.get(f"/api/v1/records/{record_id}", headers=archivist)
                    assert record.status_code == 200
                    assert record.json()["page_count"] == 1
                down = client.get("/api/v1/search", params={"q": "违约责任"},
                                  headers=archivist)
                assert down.status_code == 503, down.text
            finally:
                elasticsearch("es-start")

            deadline = time.monotonic() + 180
            while found(client, archivist) != before | during:
                assert time.monotonic() < deadline, "the index did not catch up"
                time.sleep(1)
            from archive.services.indexing import check_index

            drift = check_index(client.app.state.sessions, client.app.state.search)
            assert drift.clean and drift.queued == 0, drift
