"""Each failure answers with its own status: a fault in what the archive holds is 500 with
an event id, a lock in storage 423, a busy or unreachable database 503 with Retry-After, a
query the engine cannot parse 422 (and a locked search database 503)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from archive.errors import BackendUnavailable, IntegrityFault, Locked, storage_failure
from search import InvalidQuery, SearchUnavailable
from search.embedded import _query_error
from storage import ChecksumMismatch, ObjectLocked, ObjectNotFound, StorageUnavailable
from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job


def test_storage_errors_answer_by_kind() -> None:
    assert isinstance(storage_failure(ObjectLocked("k")), Locked)
    assert isinstance(storage_failure(ChecksumMismatch("k", "a", "b")), IntegrityFault)
    assert isinstance(storage_failure(ObjectNotFound("k")), IntegrityFault)
    assert isinstance(storage_failure(StorageUnavailable("k")), BackendUnavailable)
    assert Locked.status == 423 and IntegrityFault.status == 500


def test_the_embedded_index_tells_a_bad_query_from_a_busy_database() -> None:
    assert isinstance(_query_error(sqlite3.OperationalError("fts5: syntax error near \"\"")),
                      InvalidQuery)
    assert isinstance(_query_error(sqlite3.OperationalError("database is locked")),
                      SearchUnavailable)


def test_a_missing_original_is_an_integrity_fault_with_an_event_id(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")["id"]
    accepted = upload(client, archivist, dossier, documents.text_pdf(["供用电合同 第一条"]))
    wait_for_job(client, archivist, accepted.json()["job_id"])
    record = client.get(f"/api/v1/records/{accepted.json()['record_id']}",
                        headers=archivist).json()
    store = client.app.state.store  # lost behind the archive's back
    key = f"originals/{record['sha256'][:2]}/{record['sha256']}"
    store.set_legal_hold(key, False)
    store.delete(key, governance_bypass=True)
    answer = client.get(f"/api/v1/records/{record['id']}/content", headers=archivist)
    assert answer.status_code == 500, answer.text
    assert answer.json()["error"] == "integrity_error" and len(answer.json()["event_id"]) == 16


@pytest.mark.parametrize(("error", "status", "code"), [
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), 503,
     "backend_unavailable"),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), 500,
     "integrity_error"),
])
def test_database_failures_answer_by_kind(client, monkeypatch, error, status, code) -> None:
    import archive.services.filing as filing

    archivist = login(client, "archivist")

    def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(filing, "get_customer", fail)
    answer = client.get("/api/v1/customers/3300012345", headers=archivist)
    assert answer.status_code == status and answer.json()["error"] == code
    if status == 503:
        assert answer.headers["Retry-After"]
    else:
        assert answer.json()["event_id"]


def test_no_answer_goes_out_without_its_committed_audit_event(client, monkeypatch) -> None:
    from archive.services.work import Work

    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")

    def lost(self) -> None:  # type: ignore[no-untyped-def]
        self.abandon()
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(Work, "commit", lost)
    answer = client.get("/api/v1/customers/3300012345", headers=archivist)
    assert answer.status_code == 503 and "杭州" not in answer.text
