"""Personal information past the mask, tried as a clerk without the clearance would, on
both backend sets: page text, every highlight window across every value, queries of the
values themselves, a record above the clearance, the access copy, the original, exports and
free-text fields. Each check has a cleared archivist's answer beside it, so it can fail."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest
from pypdf import PdfReader

from search.analysis import strip_cjk_spaces
from search.personal import digits_of, mask_value
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
PHONE, ID_NUMBER = "13957106341", "330106199001013456"
# (as written on the page, kind): the customer's own values spaced as OCR may give them,
# and others found by their shape
VALUES = [
    ("139 5710 6341", "phone"), (PHONE, "phone"), (ID_NUMBER, "id"),
    ("330106 19900101 3456", "id"), ("18559202768", "phone"),
    ("6222 0212 3456 7890 123", "bank"), ("0571-88886666", "phone"),
    ("330106900101345", "id"), ("6217001234567890", "bank"),
    ("+8613812345679", "phone"), ("0571 8888 6666", "phone"), ("110101-19900307-1235", "id"),
]
LABELS = {"phone": "联系电话：", "id": "证件号码：", "bank": "缴费账号："}
FILLER = ("供电人用电人双方依据国家有关法律法规签订本合同计量装置安装于产权分界处电费按月结算"
          "逾期缴纳应承担违约金检查人员进入现场应出示证件客户应配合完成安全用电检查并签字确认")
RESTRICTED_PHRASE = "受限页专有的整改通知内容"


def _page(seed: int) -> str:
    """Lines of filler (varied, so short phrases of it are unique) and labelled values."""
    rng = random.Random(seed)
    lines = ["供用电合同 户号 3300012345 金额 0.6123151411625729 元"]
    for value, kind in VALUES:
        lines.append("".join(rng.sample(FILLER, 28)))
        lines.append(f"{LABELS[kind]}{value}")
    lines.append("".join(rng.sample(FILLER, 28)))
    return "\n".join(lines)


@pytest.fixture
def world(client, settings) -> dict:
    # an archivist of the station without the personal-information clearance
    add_account(settings, "archivist_np", role="archivist", unit="xh", clearance="受限")
    archivist = login(client, "archivist")
    create_customer(client, archivist, ACCOUNT, phone=PHONE, id_number=ID_NUMBER)
    dossier = create_dossier(client, archivist, ACCOUNT)["id"]
    ids = {}
    for name, level, text in (("open", "内部", _page(1)),
                              ("restricted", "受限", f"{RESTRICTED_PHRASE}\n{_page(2)}")):
        accepted = upload(client, archivist, dossier, documents.text_pdf([text]),
                          doc_type="供用电合同", title=f"供用电合同 联系人电话 {PHONE}",
                          security_level=level).json()
        assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
        ids[name] = accepted["record_id"]
    raw = client.get(f"/api/v1/records/{ids['open']}/text",
                     headers=archivist).json()["pages"][0]["text"]
    masked = client.get(f"/api/v1/records/{ids['open']}/text",
                        headers=login(client, "clerk")).json()["pages"][0]["text"]
    return {"dossier": dossier, "ids": ids, "raw": raw, "masked": masked}


def _collapsed(text: str) -> str:
    return " ".join(strip_cjk_spaces(text).split())


def test_page_text_shows_no_more_than_the_masks(world) -> None:
    raw, masked = world["raw"], world["masked"]
    assert len(raw) == len(masked)
    for value, kind in VALUES:
        assert value in raw, value  # the cleared archivist reads it as filed
        assert value not in masked and mask_value(kind, value) in masked, value
    assert "3300012345" in masked and "0.6123151411625729" in masked  # not personal


def _search(client, headers, q: str, **params) -> dict:
    response = client.get("/api/v1/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _fragment(highlight: str) -> str:
    text = highlight.replace("<em>", "").replace("</em>", "")
    return text.removeprefix("…").removesuffix("…")


def test_no_highlight_window_cuts_into_a_value(client, world) -> None:
    """GIVEN a page of personal values between lines of filler WHEN the clerk searches
    phrases placed so that a highlight window (24 characters each side of the hit) starts
    or ends at every position inside every value THEN each highlight is a piece of the
    masked page: no cut shows more of a value than its mask."""
    clerk = login(client, "clerk")
    text = strip_cjk_spaces(world["raw"])
    masked = _collapsed(world["masked"])
    cjk = re.compile(r"^[\u4e00-\u9fff]{3}$")
    walked: dict[str, set[str]] = {value: set() for value, _ in VALUES}
    for value, _ in VALUES:
        start = text.index(value)
        for cut in range(start, start + len(value) + 1):
            for edge, phrase in (("end", text[cut - 27:cut - 24]),
                                 ("start", text[cut + 24:cut + 27])):
                if not cjk.match(phrase) or text.count(phrase) != 1:
                    continue
                found = _search(client, clerk, f'"{phrase}"')
                hit = next(h for h in found["hits"] if h["record_id"] == world["ids"]["open"])
                [highlight] = hit["highlights"]
                assert f"<em>{phrase}</em>" in highlight["text"]
                assert _fragment(highlight["text"]) in masked, (value, cut, highlight)
                walked[value].add(edge)
    assert all(edges == {"start", "end"} for edges in walked.values()), walked


def test_a_value_is_no_query_for_whoever_may_not_see_it(client, world) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist")
    unseen = login(client, "archivist_np")
    for value, _ in VALUES:
        for q in (value, f'"{value}"', digits_of(value)):
            for headers in (clerk, unseen):
                found = _search(client, headers, q)
                assert found["total"] == 0, (q, found["hits"])
        # the cleared archivist finds the record by the value itself
        found = _search(client, archivist, digits_of(value))
        assert world["ids"]["open"] in {h["record_id"] for h in found["hits"]}, value
        highlights = " ".join(h["text"] for hit in found["hits"] for h in hit["highlights"])
        assert "*" not in highlights  # cut from the text as filed


def test_a_record_above_the_clearance_matches_on_its_catalogue_only(client, world) -> None:
    clerk, archivist = login(client, "clerk"), login(client, "archivist")
    restricted = world["ids"]["restricted"]
    for q in (RESTRICTED_PHRASE, f'"{RESTRICTED_PHRASE}"', "整改通知"):
        assert _search(client, clerk, q)["total"] == 0, q
        assert restricted in {h["record_id"] for h in _search(client, archivist, q)["hits"]}
    by_title = {h["record_id"]: h for h in _search(client, clerk, "供用电合同")["hits"]}
    assert by_title[restricted]["access"] == "restricted"
    assert by_title[restricted]["highlights"] == []
    assert PHONE not in by_title[restricted]["title"]
    assert mask_value("phone", PHONE) in by_title[restricted]["title"]


def test_the_access_copy_and_the_original(client, world) -> None:
    record = world["ids"]["open"]
    clerk, archivist = login(client, "clerk"), login(client, "archivist")
    copy = client.get(f"/api/v1/records/{record}/access-copy", headers=clerk)
    assert copy.status_code == 200, copy.text
    layer = "".join(page.extract_text() for page in PdfReader(io.BytesIO(copy.content)).pages)
    # each number as written (digits with their separators), not every digit of the page
    # run together: that would find a value across a date, a mask and a random id
    runs = [digits_of(run) for run in re.findall(r"[0-9０-９xX][0-9０-９xX \n+\-]*", layer)]
    for value, kind in VALUES:
        assert not any(digits_of(value) in run for run in runs), value
        assert mask_value(kind, value).replace(" ", "") in layer.replace(" ", ""), value
    cleared = client.get(f"/api/v1/records/{record}/access-copy", headers=archivist)
    cleared_layer = "".join(p.extract_text() for p in PdfReader(io.BytesIO(cleared.content)).pages)
    assert all(digits_of(value) in digits_of(cleared_layer) for value, _ in VALUES)
    # the original cannot be masked: it goes only to those who may see personal information
    refused = client.get(f"/api/v1/records/{record}/content", headers=clerk)
    assert refused.status_code == 403 and "personal information" in refused.json()["detail"]
    assert client.get(f"/api/v1/records/{record}/content", headers=archivist).status_code == 200


def test_free_text_fields_and_exports(client, world) -> None:
    """Values typed into free text — a title, a purpose, a location, a hold's reason, a
    search — come back masked to whoever may not see them, in JSON and in CSV."""
    clerk, archivist = login(client, "clerk"), login(client, "archivist")
    unseen = login(client, "archivist_np")
    record, dossier = world["ids"]["open"], world["dossier"]
    masked_phone = mask_value("phone", PHONE)
    asked = client.post("/api/v1/borrow-requests", headers=clerk, json={
        "record_id": record, "purpose": f"回电 {PHONE} 核对地址", "days": 3})
    assert asked.status_code == 201, asked.text
    assert client.put(f"/api/v1/dossiers/{dossier}/location", headers=archivist,
                      json={"room": "A1", "shelf": PHONE}).status_code == 200
    assert client.post(f"/api/v1/records/{record}/hold", headers=archivist,
                       json={"reason": f"诉讼 当事人证件 {ID_NUMBER}"}).status_code == 201
    _search(client, clerk, ID_NUMBER)
    answers = {
        "record": client.get(f"/api/v1/records/{record}", headers=unseen).json()["title"],
        "dossier": str(client.get(f"/api/v1/dossiers/{dossier}", headers=unseen).json()),
        "borrowing": str(client.get("/api/v1/borrow-requests", headers=unseen).json()),
        "own request": str(client.get("/api/v1/borrow-requests", headers=clerk).json()),
        "customer": str(client.get(f"/api/v1/customers/{ACCOUNT}", headers=clerk).json()),
        "due": str(client.get("/api/v1/disposition/due", headers=unseen).json()),
    }
    for name, body in answers.items():
        assert PHONE not in body and ID_NUMBER not in body, (name, body)
    assert masked_phone in answers["record"] and masked_phone in answers["dossier"]
    cleared = str(client.get(f"/api/v1/dossiers/{dossier}", headers=archivist).json())
    assert PHONE in cleared  # the cleared archivist reads what was typed
    auditor = login(client, "auditor")
    for fmt in ("json", "csv", "jsonl"):
        body = client.get("/api/v1/audit/events", params={"format": fmt, "limit": 1000},
                          headers=auditor).text
        assert ID_NUMBER not in body and PHONE not in body, fmt
        assert mask_value("id", ID_NUMBER) in body, fmt
    rows = list(csv.reader(io.StringIO(client.get(
        "/api/v1/audit/events", params={"format": "csv", "limit": 1000},
        headers=auditor).text.lstrip("\ufeff"))))
    assert len(rows) > 5



def test_what_a_pdf_hides_reaches_no_one_without_the_clearance(client, world) -> None:
    """GIVEN a born-digital PDF whose visible text is clean but whose metadata and a note
    hold a phone and an ID number THEN the clerk gets neither the original nor them in the
    access copy (drawn anew, without the PDF's metadata and annotations)."""
    archivist, clerk = login(client, "archivist"), login(client, "clerk")
    content = documents.pdf_with_hidden_text("供用电合同 第一条 供电方式", title=f"客户电话{PHONE}",
                                             note=f"备注 身份证{ID_NUMBER}")
    accepted = upload(client, archivist, world["dossier"], content, title="供用电合同").json()
    assert wait_for_job(client, archivist, accepted["job_id"])["status"] == "done"
    record = accepted["record_id"]
    assert client.get(f"/api/v1/records/{record}/content", headers=clerk).status_code == 403
    copy = client.get(f"/api/v1/records/{record}/access-copy", headers=clerk)
    assert copy.status_code == 200
    reader = PdfReader(io.BytesIO(copy.content))
    everything = str(reader.metadata) + "".join(
        str(page.get("/Annots")) + page.extract_text() for page in reader.pages)
    assert PHONE not in everything and ID_NUMBER not in everything
    assert PHONE.encode() not in copy.content and ID_NUMBER.encode() not in copy.content
    cleared = client.get(f"/api/v1/records/{record}/content", headers=archivist)
    assert PHONE in str(PdfReader(io.BytesIO(cleared.content)).metadata)
