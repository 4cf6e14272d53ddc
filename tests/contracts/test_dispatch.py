"""The dispatch contract, on both dispatchers: the database polled (the embedded default)
and Dramatiq on a real Redis. Whatever brings a job to a worker, it runs once: announced
twice, it runs once; never announced (its message lost), it is found; in its backoff, it
waits; announced while the broker is away, it is not lost.

The web app here accepts uploads but runs no worker (``embedded_worker=False``): each test
starts the worker itself, so what reaches it is what the dispatcher delivered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, update

from archive.app import create_app
from archive.backends import Backends
from archive.db.models import Job, Page, utcnow
from archive.services.jobs import Worker
from archive.settings import Settings
from tests import documents, services
from tests.factories import (
    bootstrap,
    create_customer,
    create_dossier,
    login,
    make_settings,
    upload,
    wait_until,
)

PAGES = ["供用电合同 第一页 供电方", "第二页 计量装置", "第三页 违约责任"]


@pytest.fixture(params=["database", pytest.param("dramatiq", marks=pytest.mark.integration)])
def settings(request, tmp_path) -> Iterator[Settings]:
    dispatch: dict = {"backend": request.param}
    if request.param == "dramatiq":
        dispatch.update(redis_url=services.redis_url(), sweep_seconds=0.5,
                        namespace=f"t-{tmp_path.name[-20:]}-{time.monotonic_ns() % 10**6}")
    with make_settings("embedded", tmp_path, embedded_worker=False,
                       dispatch=dispatch) as built:
        bootstrap(built)
        try:
            yield built
        finally:
            if request.param == "dramatiq":
                services.drop_redis_namespace(services.redis_url(), built.dispatch.namespace)


@pytest.fixture
def backends(settings) -> Iterator[Backends]:
    with Backends.open(settings) as opened:
        yield opened


@pytest.fixture
def accepted(settings) -> Iterator[tuple[str, str]]:
    """A three-page scan accepted through the API: (record id, job id), announced once."""
    with TestClient(create_app(settings)) as client:
        archivist = login(client, "archivist")
        create_customer(client, archivist, "3300077001")
        dossier = create_dossier(client, archivist, "3300077001")
        answer = upload(client, archivist, dossier["id"], documents.text_pdf(PAGES))
        assert answer.status_code == 202, answer.text
        yield answer.json()["record_id"], answer.json()["job_id"]


def _job(backends: Backends, job_id: str) -> Job:
    with backends.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _run_worker(backends: Backends, until, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    worker = Worker(backends.job_context(), poll_seconds=0.1, dispatcher=backends.dispatcher)
    worker.SWEEP_EVERY = 0.2
    worker.start()
    try:
        wait_until(until, timeout, what)
    finally:
        worker.stop()


def _pages(backends: Backends, record_id: str) -> list[int]:
    with backends.sessions() as session:
        return list(session.scalars(select(Page.number).where(Page.record_id == record_id)
                                    .order_by(Page.number)))


def test_an_announced_job_runs_once_to_done(backends, accepted) -> None:
    record_id, job_id = accepted
    _run_worker(backends, lambda: _job(backends, job_id).status == "done", "the job")
    assert _job(backends, job_id).attempts == 1
    assert _pages(backends, record_id) == [1, 2, 3]


def test_a_job_announced_three_times_runs_once(backends, accepted) -> None:
    record_id, job_id = accepted
    backends.dispatcher.announce([job_id])
    backends.dispatcher.announce([job_id])  # a message delivered twice, a sweep's resend
    _run_worker(backends, lambda: _job(backends, job_id).status == "done", "the job")
    time.sleep(1.0)  # the duplicates have had their turn
    assert _job(backends, job_id).attempts == 1
    assert _pages(backends, record_id) == [1, 2, 3]
    if not backends.dispatcher.polls:
        wait_until(lambda: backends.dispatcher.pending() == 0, 30, "the duplicates acked")


def test_a_job_whose_message_was_lost_is_found(backends, accepted) -> None:
    record_id, job_id = accepted
    if not backends.dispatcher.polls:
        backends.dispatcher.broker.flush_all()  # Redis lost it (a restart without its file)
        assert backends.dispatcher.pending() == 0
    _run_worker(backends, lambda: _job(backends, job_id).status == "done", "the lost job")
    assert _pages(backends, record_id) == [1, 2, 3]


def test_a_job_in_its_backoff_waits_for_it(backends, accepted) -> None:
    _, job_id = accepted
    due = utcnow() + timedelta(seconds=3)
    with backends.sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(not_before=due))
    backends.dispatcher.announce([job_id])
    started = time.monotonic()
    _run_worker(backends, lambda: _job(backends, job_id).status == "done", "the job")
    assert time.monotonic() - started >= 2.5
    assert _job(backends, job_id).attempts == 1


def test_a_job_announced_while_the_broker_is_away_is_not_lost(settings, backends,
                                                              accepted) -> None:
    """The upload committed its job; the broker refused the message (here: a Redis that
    does not answer). The announcement raises nothing, and a worker finds the job."""
    _, job_id = accepted
    if not backends.dispatcher.polls:
        backends.dispatcher.broker.flush_all()
        away = settings.model_copy(update={"dispatch": settings.dispatch.model_copy(update={
            "redis_url": SecretStr("redis://127.0.0.1:9/0")})})  # nothing listens there
        with Backends.open(away) as elsewhere:
            elsewhere.dispatcher.announce([job_id])  # logged, not raised
    _run_worker(backends, lambda: _job(backends, job_id).status == "done", "the job")
    with backends.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
