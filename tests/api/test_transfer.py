"""Transfer (移交): a dossier leaves as a BagIt package that the receiver validates with the
``bagit`` library; a tampered package fails; the handover is recorded with the check."""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path

import bagit
import pytest

from archive.services.transfer import check_package
from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job

ACCOUNT = "3300012345"


@pytest.fixture
def dossier(client) -> dict:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier_id = create_dossier(client, archivist, ACCOUNT)["id"]
    files = {}
    for doc_type, text in (("用电申请书", "用电申请书 申请容量 8kVA"),
                           ("供用电合同", "供用电合同 第一条 供电方式")):
        content = documents.text_pdf([text])
        accepted = upload(client, archivist, dossier_id, content, filename=f"{doc_type}.pdf",
                          doc_type=doc_type, title=doc_type).json()
        assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
        files[accepted["record_id"]] = content
    return {"id": dossier_id, "files": files}


def _export(client, headers, tmp_path: Path, **body) -> tuple[dict, Path]:
    made = client.post("/api/v1/transfers", headers=headers,
                       json={"receiver": "杭州市档案馆", **body})
    assert made.status_code == 201, made.text
    transfer = made.json()
    package = client.get(f"/api/v1/transfers/{transfer['id']}/package", headers=headers)
    assert package.status_code == 200
    assert hashlib.sha256(package.content).hexdigest() == transfer["package_sha256"]
    path = tmp_path / "package.zip"
    path.write_bytes(package.content)
    return transfer, path


def test_a_dossier_transfer_is_a_valid_bag_and_the_handover_is_recorded(
        client, dossier, tmp_path) -> None:
    archivist = login(client, "archivist")
    transfer, path = _export(client, archivist, tmp_path, dossier_id=dossier["id"])
    assert transfer["status"] == "exported" and set(transfer["items"]) == set(dossier["files"])

    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "received")
    [folder] = (tmp_path / "received").iterdir()
    bag = bagit.Bag(str(folder))
    bag.validate()  # raises if anything is missing, added or altered
    assert "sha256" in bag.algorithms
    assert bag.info["External-Identifier"] == transfer["id"]
    catalogue = json.loads((folder / "data/metadata/catalogue.json").read_text("utf-8"))
    by_id = {row["record_id"]: row for row in catalogue["records"]}
    assert set(by_id) == set(dossier["files"])
    for record_id, content in dossier["files"].items():
        row = by_id[record_id]
        assert (folder / row["original"]).read_bytes() == content
        assert row["sha256"] == hashlib.sha256(content).hexdigest()
        assert row["customer_account"] == ACCOUNT and row["retention_period"] == "Y"
    with open(folder / "data/metadata/catalogue.csv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["文件编号", "档号"] and len(rows) == 3

    checked = check_package(path)
    assert checked.valid and checked.files == 4, checked.detail
    receipt = client.post(f"/api/v1/transfers/{transfer['id']}/receipt", headers=archivist,
                          json={"valid": checked.valid, "detail": checked.detail})
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["status"] == "accepted" and receipt.json()["checked_at"]
    assert client.post(f"/api/v1/transfers/{transfer['id']}/receipt", headers=archivist,
                       json={"valid": True}).status_code == 409
    listed = client.get("/api/v1/transfers", headers=archivist).json()
    assert listed["next"] is None
    assert [(t["id"], t["receiver"], t["sender"]) for t in listed["items"]] == [
        (transfer["id"], "杭州市档案馆", "archivist")]


def test_a_tampered_package_fails_validation(client, dossier, tmp_path) -> None:
    archivist = login(client, "archivist")
    record_id = next(iter(dossier["files"]))
    _, path = _export(client, archivist, tmp_path, record_ids=[record_id])
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "received")
    [folder] = (tmp_path / "received").iterdir()
    [original] = (folder / "data/originals").rglob("*.pdf")
    original.write_bytes(original.read_bytes().replace(b"%PDF-", b"%PDF~", 1))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(folder)).validate()
    checked = check_package(folder)
    assert not checked.valid and "sha256" in checked.detail
    (folder / "data/extra.txt").write_text("slipped in")
    original.unlink()
    assert not check_package(folder).valid


def test_transfers_are_refused_to_those_who_may_not_make_them(client, dossier) -> None:
    clerk, auditor = login(client, "clerk"), login(client, "auditor")
    for headers in (clerk, auditor):
        assert client.post("/api/v1/transfers", headers=headers,
                           json={"receiver": "x", "dossier_id": dossier["id"]}
                           ).status_code == 403
    archivist = login(client, "archivist")
    for body in ({"receiver": "x"}, {"receiver": " ", "dossier_id": dossier["id"]},
                 {"receiver": "x", "record_ids": []},
                 {"receiver": "x", "dossier_id": dossier["id"], "record_ids": ["a"]}):
        assert client.post("/api/v1/transfers", headers=archivist, json=body
                           ).status_code == 422, body
    assert client.post("/api/v1/transfers", headers=archivist,
                       json={"receiver": "x", "record_ids": ["missing"]}).status_code == 404
    assert client.get("/api/v1/transfers", headers=archivist).json() == {"items": [],
                                                                         "next": None}


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path, monkeypatch) -> None:
    import tempfile

    bomb = tmp_path / "bomb.zip"
    with (zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive,
          archive.open("bag/data/zeros.bin", "w") as member):
        for _ in range(64):
            member.write(bytes(1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024  # 64 MB of zeros in well under one
    unpacked = tmp_path / "unpack"
    unpacked.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(unpacked))
    checked = check_package(bomb)
    assert not checked.valid and "zip bomb" in checked.detail
    assert list(unpacked.rglob("*.bin")) == []
    # a package that says it unpacks to more than the disk can spare is refused alike
    import archive.services.transfer as transfer

    monkeypatch.setattr(transfer, "MAX_RATIO", 10**6)
    monkeypatch.setattr(transfer, "MAX_UNPACKED", 32 * 1024 * 1024)
    checked = check_package(bomb)
    assert not checked.valid and "more than" in checked.detail


def test_hostile_zips_are_refused_with_an_answer(tmp_path) -> None:
    many = tmp_path / "many.zip"  # small members, a bomb in all
    with zipfile.ZipFile(many, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(40):
            archive.writestr(f"bag/data/{n}.bin", bytes(256 * 1024))
    checked = check_package(many)
    assert not checked.valid and "zip bomb" in checked.detail
    clash = tmp_path / "clash.zip"  # a file where a folder must go
    with zipfile.ZipFile(clash, "w") as archive:
        archive.writestr("bag/data", b"x")
        archive.writestr("bag/data/a.txt", b"y")
    assert not check_package(clash).valid
    dot = tmp_path / "dot.zip"
    with zipfile.ZipFile(dot, "w") as archive:
        archive.writestr(".", b"x")
    assert not check_package(dot).valid
