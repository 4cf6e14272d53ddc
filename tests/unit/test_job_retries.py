"""Retries with backoff: a job whose backend is away waits, twice as long each time, and
fails with its reason after the last attempt (the error path, with the store mocked); a job
that cannot succeed fails at once and the worker goes on."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest

from archive.db.models import Job, Record, utcnow
from archive.services.jobs import JobContext, JobPolicy, Worker, claim_next, run_job
from storage import StorageUnavailable
from tests import documents
from tests.factories import create_customer, create_dossier, login, upload


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend_set, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path, embedded_worker=False) as built:
        bootstrap(built)
        yield built


def test_backoff_then_failure_with_the_reason(client, settings) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345", unit="xh")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    job_id = upload(client, archivist, dossier, documents.text_pdf(["用电申请书"])).json()["job_id"]
    state = client.app.state
    store = mock.Mock(wraps=state.store)
    store.get.side_effect = StorageUnavailable("connection refused")
    policy = JobPolicy(max_attempts=3, backoff=timedelta(seconds=60))
    ctx = JobContext.of(settings, sessions=state.sessions, store=store, search=state.search,
                        authorizer=state.authorizer)
    ctx.policy = policy

    waits = []
    for attempt in (1, 2, 3):
        assert claim_next(state.sessions, policy, "test") == job_id
        run_job(ctx, job_id)
        with state.sessions() as session:
            job = session.get(Job, job_id)
            assert job.attempts == attempt
            status, error, not_before = job.status, job.error, job.not_before
        if attempt < 3:
            assert status == "queued" and "retrying" in error
            waits.append(not_before.replace(tzinfo=utcnow().tzinfo) - utcnow())
            # not due yet: nobody claims it before its time
            assert claim_next(state.sessions, policy, "test") is None
            with state.sessions.begin() as session:  # let the clock run past the wait
                session.get(Job, job_id).not_before = utcnow() - timedelta(seconds=1)
    assert timedelta(seconds=55) < waits[0] <= timedelta(seconds=60)
    assert timedelta(seconds=115) < waits[1] <= timedelta(seconds=120)
    failed = client.get(f"/api/v1/jobs/{job_id}", headers=archivist).json()
    assert failed["status"] == "failed"
    assert failed["error"] == "StorageUnavailable: connection refused"


def test_a_broken_job_fails_with_its_reason_and_the_worker_goes_on(client, settings) -> None:
    """A job that cannot succeed (its original vanished from storage) fails at once with
    the reason; the same worker then runs the next job."""
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345", unit="xh")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    broken = upload(client, archivist, dossier, documents.text_pdf(["用电申请书 甲"])).json()
    fine = upload(client, archivist, dossier, documents.text_pdf(["用电申请书 乙"])).json()
    state = client.app.state
    with state.sessions() as session:
        key = session.get(Record, broken["record_id"]).original_key
    # The original is kept (WORM: 用电申请书 are permanent, under a legal hold in storage):
    # lift the hold to make it vanish as a failing disk would.
    state.store.set_legal_hold(key, False)
    state.store.delete(key)
    ctx = JobContext.of(settings, sessions=state.sessions, store=state.store,
                        search=state.search, authorizer=state.authorizer)
    worker = Worker(ctx)
    assert worker.run_pending() == 2
    first = client.get(f"/api/v1/jobs/{broken['job_id']}", headers=archivist).json()
    assert first["status"] == "failed" and first["attempts"] == 1
    assert "ObjectNotFound" in first["error"]
    second = client.get(f"/api/v1/jobs/{fine['job_id']}", headers=archivist).json()
    assert second["status"] == "done"
    failures = client.get("/api/v1/jobs", params={"status": "failed"}, headers=archivist)
    assert [j["id"] for j in failures.json()["items"]] == [broken["job_id"]]
    other = login(client, "clerk_gs")  # staff hold no job:read; and 拱墅 is another unit
    assert client.get("/api/v1/jobs", headers=other).status_code == 403


def test_a_search_outage_neither_fails_the_job_nor_loses_the_change(client, settings) -> None:
    """The error path with the search backend mocked away: the job is done, the record
    filed and readable, the change waits in the outbox; once the backend answers, the
    worker loop indexes it and empties the outbox."""
    from archive.services.indexing import outbox_size
    from search import SearchQuery, SearchUnavailable

    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345", unit="xh")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    ids = upload(client, archivist, dossier, documents.text_pdf(["用电申请书 漏电保护器"])).json()
    state = client.app.state
    away = mock.Mock(wraps=state.search)
    away.index.side_effect = SearchUnavailable("connection refused")
    ctx = JobContext.of(settings, sessions=state.sessions, store=state.store, search=away,
                        authorizer=state.authorizer)
    worker = Worker(ctx)
    assert worker.run_pending() == 1
    assert client.get(f"/api/v1/jobs/{ids['job_id']}", headers=archivist).json()["status"] == "done"
    assert client.get(f"/api/v1/records/{ids['record_id']}", headers=archivist).status_code == 200
    with state.sessions() as session:
        assert outbox_size(session) == 1
    assert state.search.search(SearchQuery(q="漏电保护器")).total == 0

    worker.ctx.search = state.search  # the backend is back
    worker._index_not_before = 0.0  # and the backoff has run out
    worker.catch_up_index()
    with state.sessions() as session:
        assert outbox_size(session) == 0
    assert [h.record_id for h in state.search.search(SearchQuery(q="漏电保护器")).hits] == [
        ids["record_id"]]
