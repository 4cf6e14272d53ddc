"""Retention, appraisal and destruction as archivists walk them: the schedule, a record's
due date, the appraisal queue once the clock passes it, a destruction carried out only by
a second archivist, with its register entry and no trace of the content left, legal holds
that block it, and the WORM lock of the original in storage."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from archive.corpus import make_customers, make_documents, write_document
from archive.db.models import AuditEvent, Page, Record
from archive.db.session import make_engine, make_sessionmaker
from archive.services.accounts import add_user
from storage import make_store
from tests import documents
from tests.factories import (
    PASSWORD,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)

ACCOUNT = "3300012345"
PAGE = "计量装置装拆表工作单 户号 3300012345 拆表示数 1234.5 封印号 FY20150302"


@pytest.fixture
def db(settings):
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _scanned_work_order(folder) -> bytes:
    """A generated meter work order, scanned: it is OCR'd and gets an access copy."""
    customers = make_customers(1, seed=5)
    doc = next(d for d in make_documents(customers, seed=5, per_customer=4)
               if d.doc_type == "计量装置装拆表工作单")
    return write_document(doc, folder / "order.jpg", "jpeg", seed=1).read_bytes()


@pytest.fixture
def filed(client, db, tmp_path) -> dict:
    """A scanned meter work order of 2015 (kept 30 years: due 1 January 2046) of 西湖供电所,
    and a second archivist there to approve what the first proposes."""
    with db.begin() as session:
        add_user(session, username="archivist_xh", password=PASSWORD, role="archivist",
                 unit_code="xh", clearance="受限")
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT, category="电能计量")["id"]
    accepted = upload(client, archivist, dossier, _scanned_work_order(tmp_path),
                      filename="order.jpg", doc_type="计量装置装拆表工作单", title="换表工作单",
                      doc_date="2015-03-02").json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    with db() as session:
        record = session.get(Record, accepted["record_id"])
        keys = [record.original_key, record.access_key]
    return {"record": accepted["record_id"], "dossier": dossier, "keys": keys}


def _move_clock_to(client, day: date) -> None:
    clock = client.app.state.clock
    clock.advance(datetime.combine(day, datetime.min.time(), clock.now().tzinfo)
                  - clock.now() + timedelta(hours=9))


def _propose(client, headers, record_id: str, action: str = "destroy", **extra):
    return client.post("/api/v1/disposition", headers=headers,
                       json={"record_id": record_id, "action": action,
                             "reason": "保管期满，无继续保存价值", **extra})


def _found(client, headers, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["record_id"] for hit in response.json()["hits"]]


def test_the_schedule_is_seeded_and_every_edit_audited(client, db) -> None:
    with db.begin() as session:
        add_user(session, username="archivist_root", password=PASSWORD, role="archivist",
                 unit_code="root", clearance="受限")
    clerk, station = login(client, "clerk"), login(client, "archivist")
    archivist = login(client, "archivist_root")  # the schedule is the company's
    lines = {line["doc_type"]: line for line in
             client.get("/api/v1/retention/schedules", headers=archivist).json()}
    assert lines["供用电合同"]["period"] == "Y" and lines["供用电合同"]["years"] is None
    assert lines["计量装置装拆表工作单"]["period_label"] == "30年"
    assert lines["缴费银行委托书"]["years"] == 10
    assert all(line["reason"] for line in lines.values())
    for someone in (clerk, station):
        assert client.put("/api/v1/retention/schedules/其他", headers=someone,
                          json={"period": "D30", "reason": "x"}).status_code == 403
    assert client.put("/api/v1/retention/schedules/其他", headers=archivist,
                      json={"period": "D99", "reason": "x"}).status_code == 422
    assert client.put("/api/v1/retention/schedules/其他", headers=archivist,
                      json={"period": "D30", "reason": " "}).status_code == 422
    edited = client.put("/api/v1/retention/schedules/其他", headers=archivist,
                        json={"period": "D30", "reason": "杂项材料多涉及产权，延长至30年"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["updated_by"] == "archivist_root"
    with db() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention:edit")
                                ).one()
    assert '"before":{"period":"D10"' in event.details and '"period":"D30"' in event.details

    # A record of that type filed now gets the new period and its due date.
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT, category="客户信息服务")["id"]
    accepted = upload(client, archivist, dossier, documents.text_pdf(["其他材料"]),
                      doc_type="其他", title="杂项", doc_date="2020-06-01").json()
    record = client.get(f"/api/v1/records/{accepted['record_id']}", headers=archivist).json()
    assert record["retention_period"] == "D30" and record["retain_until"] == "2051-01-01"


def test_due_records_are_destroyed_by_two_archivists_leaving_only_the_register(
        client, settings, db, filed) -> None:
    first, second = login(client, "archivist"), login(client, "archivist_xh")
    record_id = filed["record"]
    record = client.get(f"/api/v1/records/{record_id}", headers=first).json()
    assert record["retain_until"] == "2046-01-01"
    assert _found(client, first, "封印号") == [record_id]

    # Before the due date: not in the queue, neither destroyed nor deleted.
    assert client.get("/api/v1/disposition/due", headers=first).json() == []
    assert _propose(client, first, record_id).status_code == 409
    assert client.delete(f"/api/v1/records/{record_id}", headers=first).status_code == 409

    _move_clock_to(client, date(2046, 1, 2))
    queue = client.get("/api/v1/disposition/due", headers=first).json()
    assert [(r["record_id"], r["retain_until"], r["holds"]) for r in queue] == [
        (record_id, "2046-01-01", [])]

    handed = client.post("/api/v1/transfers", headers=first, json={
        "receiver": "杭州市档案馆", "record_ids": [record_id]})
    assert handed.status_code == 201, handed.text
    proposal = _propose(client, first, record_id)
    assert proposal.status_code == 201, proposal.text
    proposal = proposal.json()
    assert proposal["status"] == "pending"
    assert client.get("/api/v1/disposition/due", headers=first).json()[0][
        "pending_proposal"] == proposal["id"]
    assert _propose(client, first, record_id).status_code == 409  # one at a time
    # The proposer cannot be the second person.
    own = client.post(f"/api/v1/disposition/{proposal['id']}/approve", headers=first)
    assert own.status_code == 403, own.text
    assert client.get(f"/api/v1/records/{record_id}/text", headers=first).status_code == 200

    approved = client.post(f"/api/v1/disposition/{proposal['id']}/approve", headers=second,
                           json={"note": "同意销毁"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "archivist_xh"

    # The register keeps the catalogue fields and the original's hash ...
    register = client.get("/api/v1/disposition/register", headers=first).json()
    assert [(e["record_id"], e["sha256"], e["proposed_by"], e["approved_by"])
            for e in register] == [(record_id, record["sha256"], "archivist", "archivist_xh")]
    assert register[0]["archive_number"] == record["archive_number"]
    assert register[0]["title"] == "换表工作单" and register[0]["customer_account"] == ACCOUNT
    printed = client.get("/api/v1/disposition/register", params={"format": "csv"},
                         headers=first)
    rows = list(csv.reader(io.StringIO(printed.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["文件编号", "档号", "户号"] and record["sha256"] in rows[1]

    # ... and nothing else of the content is left: storage, text, index.
    store = make_store(settings.storage)
    assert all(filed["keys"])  # the original and its access copy, both gone
    for key in filed["keys"]:
        assert not store.exists(key)
    if settings.storage.backend == "minio":
        versions = list(store.client.list_objects(store.bucket, prefix="originals/",
                                                  include_version=True))
        assert versions == []
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Page)
                              .where(Page.record_id == record_id)) == 0
        destroyed = session.get(Record, record_id)
        assert destroyed.status == "destroyed" and destroyed.original_key == ""
        actions = set(session.scalars(select(AuditEvent.action)
                                      .where(AuditEvent.object_id == record_id)))
    assert {"disposition:destroy", "disposition:reject"} & actions == {"disposition:destroy"}
    for part in ("content", "text", "access-copy"):
        assert client.get(f"/api/v1/records/{record_id}/{part}",
                          headers=first).status_code == 410
    assert _found(client, first, "封印号") == []
    # the transfer package that carried it went with it
    assert client.get(f"/api/v1/transfers/{handed.json()['id']}/package",
                      headers=first).status_code == 410
    assert not store.exists(f"transfers/{handed.json()['id']}.zip")
    assert client.get(f"/api/v1/records/{record_id}", headers=first).json()["status"] == \
        "destroyed"
    assert client.get("/api/v1/disposition/due", headers=first).json() == []


def test_a_rejected_proposal_destroys_nothing_and_retain_extends(
        client, settings, filed) -> None:
    first, second = login(client, "archivist"), login(client, "archivist_xh")
    record_id = filed["record"]
    _move_clock_to(client, date(2046, 3, 1))
    proposal = _propose(client, first, record_id).json()
    rejected = client.post(f"/api/v1/disposition/{proposal['id']}/reject", headers=second,
                           json={"note": "仍有追补电费争议"})
    assert rejected.json()["status"] == "rejected"
    assert client.get(f"/api/v1/records/{record_id}/text", headers=first).status_code == 200

    assert _propose(client, second, record_id, "retain").status_code == 422  # no years
    kept = _propose(client, second, record_id, "retain", years=10)
    assert kept.status_code == 201, kept.text
    assert kept.json()["status"] == "applied" and kept.json()["retain_until"] == "2056-01-01"
    assert client.get("/api/v1/disposition/due", headers=first).json() == []
    # storage keeps the original to the new date
    locks = make_store(settings.storage).locks(filed["keys"][0])
    assert locks.retain_until is not None and locks.retain_until.date() == date(2056, 1, 1)


def test_a_legal_hold_blocks_destruction_and_deletion_until_released(
        client, filed) -> None:
    first, second = login(client, "archivist"), login(client, "archivist_xh")
    clerk = login(client, "clerk")
    record_id, dossier_id = filed["record"], filed["dossier"]
    _move_clock_to(client, date(2046, 1, 2))

    assert client.post(f"/api/v1/customers/{ACCOUNT}/hold", headers=clerk,
                       json={"reason": "x"}).status_code == 403
    held = client.post(f"/api/v1/customers/{ACCOUNT}/hold", headers=first,
                       json={"reason": "（2046）浙0106民初123号 电费纠纷"})
    assert held.status_code == 201, held.text
    assert client.post(f"/api/v1/customers/{ACCOUNT}/hold", headers=first,
                       json={"reason": "again"}).status_code == 409
    queue = client.get("/api/v1/disposition/due", headers=first).json()
    assert [h["scope"] for h in queue[0]["holds"]] == ["customer"]
    refused = _propose(client, first, record_id)
    assert refused.status_code == 409 and "legal hold" in refused.json()["detail"]
    deleted = client.delete(f"/api/v1/records/{record_id}", headers=first)
    assert deleted.status_code == 409 and "legal hold" in deleted.json()["detail"]
    assert client.delete(f"/api/v1/customers/{ACCOUNT}/hold", headers=first).status_code == 200

    # Deleting past the due date only proposes; a hold placed meanwhile stops the approval.
    asked = client.delete(f"/api/v1/records/{record_id}", headers=first,
                          params={"reason": "客户已销户"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["action"] == "destroy" and asked.json()["status"] == "pending"
    assert client.post(f"/api/v1/dossiers/{dossier_id}/hold", headers=second,
                       json={"reason": "审计抽查"}).status_code == 201
    blocked = client.post(f"/api/v1/disposition/{asked.json()['id']}/approve", headers=second)
    assert blocked.status_code == 409
    assert client.get(f"/api/v1/records/{record_id}/content", headers=first).status_code == 200
    assert client.delete(f"/api/v1/dossiers/{dossier_id}/hold", headers=second
                         ).status_code == 200
    assert client.delete(f"/api/v1/dossiers/{dossier_id}/hold", headers=second
                         ).status_code == 404
    # Nor is a record destroyed while its paper original is out on loan.
    loan = client.post("/api/v1/borrow-requests", headers=clerk, json={
        "record_id": record_id, "purpose": "核对表计读数", "days": 7, "kind": "physical"}).json()
    client.post(f"/api/v1/borrow-requests/{loan['id']}/approve", headers=second)
    client.post(f"/api/v1/borrow-requests/{loan['id']}/checkout", headers=second)
    out = client.post(f"/api/v1/disposition/{asked.json()['id']}/approve", headers=second)
    assert out.status_code == 409 and "out on loan" in out.json()["detail"]
    client.post(f"/api/v1/borrow-requests/{loan['id']}/return", headers=second)
    waiting = client.post("/api/v1/borrow-requests", headers=clerk, json={
        "record_id": record_id, "purpose": "再次核对", "days": 3}).json()
    done = client.post(f"/api/v1/disposition/{asked.json()['id']}/approve", headers=second)
    assert done.status_code == 200, done.text
    assert client.get(f"/api/v1/records/{record_id}/content", headers=first).status_code == 410
    mine = {r["id"]: r["status"] for r in
            client.get("/api/v1/borrow-requests", headers=clerk).json()}
    assert mine == {loan["id"]: "returned", waiting["id"]: "cancelled"}
    assert client.post("/api/v1/borrow-requests", headers=clerk, json={
        "record_id": record_id, "purpose": "x", "days": 3}).status_code == 410


@pytest.mark.integration
@pytest.mark.parametrize("backend_set", ["services"])
def test_minio_refuses_a_direct_delete_of_a_locked_original(client, settings, db) -> None:
    """WORM in the storage itself: whoever holds the bucket's credentials without the
    bypass cannot remove a retained original, nor a permanent one under its legal hold."""
    from minio.error import S3Error

    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT, category="业扩报装")["id"]
    keys = {}
    for doc_type, body in (("计量装置装拆表工作单", PAGE), ("供用电合同", "供用电合同 永久保存")):
        accepted = upload(client, archivist, dossier, documents.text_pdf([body]),
                          doc_type=doc_type, title=doc_type, doc_date="2015-03-02").json()
        assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
        with db() as session:
            keys[doc_type] = session.get(Record, accepted["record_id"]).original_key
    store = make_store(settings.storage)
    minio, bucket = store.client, store.bucket

    retained = keys["计量装置装拆表工作单"]
    retention = minio.get_object_retention(bucket, retained)
    assert retention.mode == "GOVERNANCE"
    assert retention.retain_until_date.date() == date(2046, 1, 1)
    permanent = keys["供用电合同"]
    assert minio.is_object_legal_hold_enabled(bucket, permanent)

    for key in (retained, permanent):
        [version] = [v.version_id for v in minio.list_objects(bucket, prefix=key,
                                                               include_version=True)]
        with pytest.raises(S3Error) as refused:
            minio.remove_object(bucket, key, version_id=version)
        assert refused.value.code in ("AccessDenied", "InvalidRequest"), refused.value
        assert "WORM" in refused.value.message or "retention" in refused.value.message.lower()
        # A plain DELETE only hides the object behind a delete marker: the bytes remain.
        minio.remove_object(bucket, key)
        with minio.get_object(bucket, key, version_id=version) as kept:
            assert kept.read()[:5] == b"%PDF-"
