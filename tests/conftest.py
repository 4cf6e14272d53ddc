"""Shared fixtures: environment isolation and one fixture per protocol over every backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.settings import ElasticsearchSettings, EmbeddedSettings
from storage.settings import FilesystemSettings, MinioSettings
from tests import services

# Metrics of every process the suite starts go to one folder of this run, chosen before
# prometheus_client is first imported (its value store is fixed then): see archive.metrics.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    import tempfile

    from archive import metrics

    metrics.configure(Path(tempfile.mkdtemp(prefix="archive-metrics-")))


@pytest.fixture(autouse=True)
def _isolate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ARCHIVE_* setting of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("ARCHIVE_") and not name.startswith("ARCHIVE_TEST_"):
            monkeypatch.delenv(name)
    from archive.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest: every test adds and logs in users, and the production
    parameters (about 0.1 s a hash) would spend minutes of the suite on them."""
    from argon2 import PasswordHasher

    from archive.services import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "hasher", cheap)
    monkeypatch.setattr(accounts, "DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.fixture(params=["filesystem", pytest.param("minio", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path):
    if request.param == "filesystem":
        from storage.filesystem import FilesystemStore

        yield FilesystemStore(FilesystemSettings(root=tmp_path / "objects"))
        return
    from storage.minio import MinioStore

    config = services.minio_config()
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    # as in production: a WORM bucket (S3 Object Lock, hence versioned)
    minio_store = MinioStore(MinioSettings(bucket=bucket, object_lock=True, **config))
    yield minio_store
    services.empty_bucket(minio_store.client, bucket)


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.integration)])
def search_backend(request: pytest.FixtureRequest, tmp_path) -> Iterator:
    if request.param == "embedded":
        from search.embedded import EmbeddedSearch

        backend = EmbeddedSearch(EmbeddedSettings(path=tmp_path / "search.db"))
        yield backend
        backend.close()
        return
    from search.elasticsearch import ElasticsearchSearch

    alias = f"test-{uuid.uuid4().hex[:12]}"
    backend = ElasticsearchSearch(ElasticsearchSettings(url=services.es_url(), alias=alias))
    yield backend
    backend.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
    backend.close()


@pytest.fixture(params=["embedded", pytest.param("services", marks=pytest.mark.integration)])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend_set: str, tmp_path):
    from tests.factories import bootstrap, make_settings

    with make_settings(backend_set, tmp_path) as built:
        bootstrap(built)
        yield built


@pytest.fixture
def client(settings):
    from fastapi.testclient import TestClient

    from archive.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Where every service is required (CI), a skipped test fails the run: nothing may
    pass by not running."""
    if os.environ.get("ARCHIVE_TEST_REQUIRE_SERVICES") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} tests skipped although every service is required",
                            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
