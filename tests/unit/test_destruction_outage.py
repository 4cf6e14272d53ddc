"""The error path of a destruction with storage away (mocked): the decision stands, the
record is destroyed in the database, its objects stay until the worker loop removes them."""

from __future__ import annotations

import pytest

from archive.db.models import Record
from archive.services.accounts import add_user
from archive.services.disposition import purge_destroyed
from storage import StorageUnavailable
from tests import documents
from tests.factories import (
    PASSWORD,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def test_objects_left_by_a_storage_outage_are_purged_later(client, monkeypatch) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345", category="客户信息服务")["id"]
    # 其他 is kept ten years: a document of 2000 was due on 1 January 2011.
    accepted = upload(client, archivist, dossier, documents.text_pdf(["杂项材料"]),
                      doc_type="其他", title="杂项", doc_date="2000-01-01").json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    state = client.app.state
    with state.sessions() as session:
        key = session.get(Record, accepted["record_id"]).original_key
    proposal = client.post("/api/v1/disposition", headers=archivist, json={
        "record_id": accepted["record_id"], "action": "destroy", "reason": "保管期满"}).json()

    def unreachable(*args, **kwargs):
        raise StorageUnavailable("object store unreachable: connection refused")

    with state.sessions.begin() as session:
        add_user(session, username="archivist2", password=PASSWORD, role="archivist",
                 unit_code="hz", clearance="受限")
    with monkeypatch.context() as patched:
        patched.setattr(state.store, "delete", unreachable)
        approved = client.post(f"/api/v1/disposition/{proposal['id']}/approve",
                               headers=login(client, "archivist2"))
    assert approved.status_code == 200, approved.text  # the decision is committed
    with state.sessions() as session:
        record = session.get(Record, accepted["record_id"])
        assert record.status == "destroyed" and record.original_key == key
    assert state.store.exists(key)
    assert client.get(f"/api/v1/records/{accepted['record_id']}/content",
                      headers=archivist).status_code == 410

    assert purge_destroyed(state.sessions, state.store) == 1  # the worker loop's next round
    assert not state.store.exists(key)
    with state.sessions() as session:
        assert session.get(Record, accepted["record_id"]).original_key == ""
    assert purge_destroyed(state.sessions, state.store) == 0
