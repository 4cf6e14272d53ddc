"""``GET /api/v1/metrics``: Prometheus text for a scraper holding the scrape token, never
anonymous; the samples of the web process and of its worker processes together (multiprocess
mode), with the database's state at scrape time."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from archive.app import create_app
from tests import documents
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_for_job,
)

TOKEN = "scrape-token-for-the-tests-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(backend_set, tmp_path) -> Iterator[TestClient]:
    # one worker process: the pages are read there, not in this process
    with make_settings(backend_set, tmp_path, metrics_token=TOKEN, worker_processes=1) as built:
        bootstrap(built)
        with TestClient(create_app(built)) as test_client:
            yield test_client


def samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    answer = client.get("/api/v1/metrics", headers=SCRAPER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    found: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:
    return sum(value for (key, have), value in found.items()
               if key == name and set(labels.items()) <= set(have))


def test_a_scrape_needs_the_token(client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    login(client, "auditor")):  # a user's token is not the scraper's
        refused = client.get("/api/v1/metrics", headers=headers)
        assert refused.status_code == 401, refused.text
        assert "archive_" not in refused.text


def test_no_token_configured_serves_no_metrics(tmp_path) -> None:
    with make_settings("embedded", tmp_path) as built:
        bootstrap(built)
        with TestClient(create_app(built)) as plain:
            answer = plain.get("/api/v1/metrics", headers={"Authorization": "Bearer "})
            assert answer.status_code == 404
            assert "ARCHIVE_METRICS_TOKEN" in answer.json()["detail"]


def test_the_series_of_the_web_and_worker_processes_and_the_state(client, backend_set) -> None:
    before = samples(client)
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300088001")
    dossier = create_dossier(client, archivist, "3300088001")
    ids = upload(client, archivist, dossier["id"], documents.text_pdf(
        ["第一页 供用电合同", "第二页 计量", "第三页 违约"])).json()
    assert wait_for_job(client, archivist, ids["job_id"])["status"] == "done"
    client.get("/api/v1/audit/verify", headers=login(client, "auditor"))
    after = samples(client)

    # requests by route template (bounded labels) and status, with their latency
    assert total(after, "archive_http_requests_total", method="POST", route="/records",
                 status="202") == total(before, "archive_http_requests_total",
                                        method="POST", route="/records", status="202") + 1
    assert total(after, "archive_http_request_duration_seconds_count", method="POST",
                 route="/records") >= 1
    # pages read in the worker process, counted by engine, with seconds per page
    read = (total(after, "archive_pages_read_total", engine="text-layer")
            - total(before, "archive_pages_read_total", engine="text-layer"))
    assert read == 3
    assert total(after, "archive_page_seconds_count", engine="text-layer") >= 3
    # the database's state at the scrape
    assert total(after, "archive_jobs", state="done") >= 1
    assert ("archive_queue_depth", (("priority", "normal"),)) in after
    assert ("archive_loans_overdue", ()) in after
    assert total(after, "archive_audit_verifications_total", result="ok") >= 1
    if backend_set == "services":  # Dramatiq's own series, from its middleware
        assert total(after, "dramatiq_messages_total") >= 1
        assert any(key == "archive_broker_pending_messages" for key, _ in after)


def test_a_path_no_route_matched_is_one_label(client) -> None:
    for number in range(5):
        client.get(f"/api/v1/nothing-{number}", headers=SCRAPER)
    text = client.get("/api/v1/metrics", headers=SCRAPER).text
    assert "nothing-" not in text
    assert re.search(r'archive_http_requests_total\{[^}]*route="unmatched"', text)
