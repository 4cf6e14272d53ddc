"""Builders for test settings, databases, users and tokens, over both backend sets.

Backend sets: ``embedded`` (SQLite, filesystem, SQLite FTS5, jobs dispatched by polling
the database) and ``services`` (PostgreSQL, MinIO, Elasticsearch, and Dramatiq on Redis
dispatching the jobs, from ``ARCHIVE_TEST_*``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from archive.db.migrate import upgrade
from archive.db.session import make_engine, make_sessionmaker
from archive.services.accounts import add_unit, add_user, ensure_root_unit
from archive.settings import Settings
from tests import services

PASSWORD = "correct-horse-battery"
# username → (role, unit, clearance)
USERS = {
    "archivist": ("archivist", "hz", "受限"),
    "clerk": ("staff", "xh", "内部"),
    "clerk_gs": ("staff", "gs", "内部"),
    "auditor": ("auditor", "root", "内部"),
    "secadmin": ("security_admin", "root", "内部"),
    "sysadmin": ("system_admin", "root", "内部"),
}
UNITS = [("hz", "杭州供电公司", "root"), ("xh", "西湖供电所", "hz"), ("gs", "拱墅供电所", "hz")]


# Migrated once per test session, then copied for each test (PostgreSQL's CREATE DATABASE
# … TEMPLATE, a file copy for SQLite): each test gets its own database, none migrates.
_templates: dict[str, str] = {}


def _postgres_template(base: sa.URL) -> str:
    if "postgresql" not in _templates:
        name = f"archive_tmpl_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
        upgrade(engine)
        engine.dispose()

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        atexit.register(drop)
        _templates["postgresql"] = name
    return _templates["postgresql"]


def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="archive-test-template-"))
        engine = make_engine(f"sqlite:///{folder / 'archive.db'}")
        upgrade(engine)
        engine.dispose()  # closed: the WAL is folded into the file
        atexit.register(shutil.rmtree, folder, True)
        _templates["sqlite"] = str(folder / "archive.db")
    return Path(_templates["sqlite"])


@contextmanager
def postgres_database(*, migrated: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (empty, or ``migrated`` already), dropped
    afterwards."""
    base = make_url(services.pg_url())
    name = f"archive_t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    template = f' TEMPLATE "{_postgres_template(base)}"' if migrated else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def make_settings(backend_set: str, tmp_path: Path, **overrides) -> Iterator[Settings]:
    # Jobs run in a thread of the test process; tests of the process pool ask for it.
    # Searches are not rate-limited but where a test says so (test_search_throttle).
    values: dict = {"data_dir": tmp_path / "var", "worker_poll_seconds": 0.1,
                    "worker_processes": 0, "search_rate_limit": ""}
    # Test buckets are emptied afterwards: anchors locked in governance mode, which the
    # cleanup may bypass (production locks them in compliance mode).
    values["audit"] = {"anchor_lock": "governance"}
    if backend_set == "embedded":
        values.update(overrides)
        built = Settings(**values)
        database = built.data_dir / "archive.db"
        if built.database_url == f"sqlite:///{database}":
            database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), database)
        yield built
        return
    minio = services.minio_config()
    es = services.es_url()
    redis = services.redis_url()
    suffix = uuid.uuid4().hex[:10]
    with postgres_database(migrated=True) as url:
        values.update(
            database_url=url,
            storage={"backend": "minio", "minio": {**minio, "bucket": f"t-{suffix}",
                                                   "object_lock": True}},
            search={"backend": "elasticsearch",
                    "elasticsearch": {"url": es, "alias": f"t-{suffix}"}},
            dispatch={"backend": "dramatiq", "redis_url": redis, "namespace": f"t-{suffix}"},
        )
        values.update(overrides)
        settings = Settings(**values)
        try:
            yield settings
        finally:
            _drop_services_state(settings)


def _drop_services_state(settings: Settings) -> None:
    from elasticsearch import Elasticsearch
    from minio import Minio

    es = Elasticsearch(settings.search.elasticsearch.url)
    es.indices.delete(index=f"{settings.search.elasticsearch.alias}-*", ignore_unavailable=True)
    es.close()
    if settings.dispatch.backend == "dramatiq":
        services.drop_redis_namespace(settings.dispatch.redis_url.get_secret_value(),
                                      settings.dispatch.namespace)
    m = settings.storage.minio
    services.empty_bucket(Minio(m.endpoint, access_key=m.access_key,
                                secret_key=m.secret_key.get_secret_value(), secure=False),
                          m.bucket)


def bootstrap(settings: Settings) -> None:
    """Migrate, then add the test units and users."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        ensure_root_unit(session, code="root", name="供电公司")
        for code, name, parent in UNITS:
            add_unit(session, code=code, name=name, parent_code=parent)
        for username, (role, unit, clearance) in USERS.items():
            add_user(session, username=username, password=PASSWORD, role=role, unit_code=unit,
                     clearance=clearance, personal_info=username == "archivist")
    engine.dispose()


def add_account(settings: Settings, username: str, *, role: str, unit: str,
                clearance: str = "内部", personal_info: bool = False) -> None:
    """One more account with the test password, committed (the app sees it at once)."""
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        add_user(session, username=username, password=PASSWORD, role=role, unit_code=unit,
                 clearance=clearance, personal_info=personal_info)
    engine.dispose()


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token",
                           data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_for_job(client: TestClient, headers: dict, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")


def create_customer(client: TestClient, headers: dict, account: str, unit: str = "xh",
                    **fields) -> dict:
    body = {"account": account, "name": fields.pop("name", "杭州明达纺织有限公司"),
            "customer_class": "低压", "voltage": "0.4kV", "address": "浙江省杭州市西湖区文三路88号",
            "phone": "13800001234", "id_number": "330106199001013456", "unit": unit, **fields}
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_dossier(client: TestClient, headers: dict, account: str,
                   category: str = "业扩报装") -> dict:
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"customer_account": account, "category": category})
    assert response.status_code == 201, response.text
    return response.json()


def upload(client: TestClient, headers: dict, dossier_id: str, content: bytes,
           filename: str = "scan.pdf", doc_type: str = "供用电合同", title: str = "供用电合同",
           doc_date: str = "2023-05-04", security_level: str = "内部"):
    return client.post(
        "/api/v1/records", headers=headers,
        files={"file": (filename, content, "application/octet-stream")},
        data={"dossier_id": dossier_id, "doc_type": doc_type, "title": title,
              "doc_date": doc_date, "security_level": security_level},
    )


def cli_environment(monkeypatch, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Point the ``archive`` command run in this process at the test's backends."""
    from archive.settings import get_settings

    values = {"ARCHIVE_DATA_DIR": str(settings.data_dir),
              "ARCHIVE_DATABASE_URL": settings.database_url,
              "ARCHIVE_WORKER_PROCESSES": "0",
              "ARCHIVE_STORAGE__BACKEND": settings.storage.backend,
              "ARCHIVE_SEARCH__BACKEND": settings.search.backend,
              "ARCHIVE_AUDIT__HMAC_KEY": settings.audit.hmac_key.get_secret_value(),
              "ARCHIVE_AUDIT__ANCHOR_LOCK": settings.audit.anchor_lock}
    minio = settings.storage.minio
    for name, value in minio.model_dump(mode="json").items():
        values[f"ARCHIVE_STORAGE__MINIO__{name.upper()}"] = (
            minio.secret_key.get_secret_value() if name == "secret_key" else str(value))
    for name, value in settings.search.elasticsearch.model_dump(mode="json").items():
        values[f"ARCHIVE_SEARCH__ELASTICSEARCH__{name.upper()}"] = str(value)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def free_port() -> int:
    """A loopback port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    """``predicate()``'s first true value, asked every 0.2 s for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def served(settings: Settings) -> Iterator[int]:
    """The app on a real loopback port (uvicorn in a thread of this process); yields it."""
    import threading

    import uvicorn

    from archive.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)
