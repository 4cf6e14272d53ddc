"""``GET /api/v1/search`` parameters end to end: field searches, filters, date sort, the
``next`` cursor, and bad parameters refused with 422 on both backend sets."""

from __future__ import annotations

import pytest

from tests import documents
from tests.factories import create_customer, create_dossier, login, upload, wait_for_job


@pytest.fixture
def filed(client) -> dict:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345", name="杭州明达纺织有限公司",
                    customer_class="高压")
    create_customer(client, archivist, "3300012346", name="张伟",
                    address="浙江省杭州市西湖区湖墅南路5号", customer_class="低压")
    ids = {}
    for account, day, text in (("3300012345", "2023-05-04", "用电人窃电的，供电人中止供电"),
                               ("3300012345", "2024-02-01", "复查：窃电已处理，追补电费"),
                               ("3300012346", "2022-09-09", "检查发现窃电嫌疑，已报告")):
        dossier = create_dossier(client, archivist, account)["id"]
        accepted = upload(client, archivist, dossier, documents.text_pdf([text]),
                          filename=f"{day}.pdf", doc_date=day)
        assert accepted.status_code == 202, accepted.text
        assert wait_for_job(client, archivist, accepted.json()["job_id"])["status"] == "done"
        ids[day] = accepted.json()["record_id"]
    return {"headers": archivist, "ids": ids}


def search(client, headers, **params) -> dict:
    response = client.get("/api/v1/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_field_searches_and_filters(client, filed) -> None:
    headers, ids = filed["headers"], filed["ids"]
    assert {h["record_id"] for h in search(client, headers, name="明达")["hits"]} == {
        ids["2023-05-04"], ids["2024-02-01"]}
    assert [h["record_id"] for h in search(client, headers, address="湖墅南路")["hits"]] == [
        ids["2022-09-09"]]
    low = search(client, headers, q="窃电", customer_class="低压")
    assert [h["record_id"] for h in low["hits"]] == [ids["2022-09-09"]]
    assert search(client, headers, q="窃电")["facets"]["customer_class"] == {
        "高压": 2, "低压": 1}
    assert search(client, headers, q="竊電")["total"] == 3  # traditional characters


def test_year_facet_and_filter(client, filed) -> None:
    headers, ids = filed["headers"], filed["ids"]
    found = search(client, headers, q="窃电")
    assert list(found["facets"]["year"].items()) == [("2024", 1), ("2023", 1), ("2022", 1)]
    chosen = search(client, headers, q="窃电", year=2023)
    assert [h["record_id"] for h in chosen["hits"]] == [ids["2023-05-04"]]
    assert chosen["facets"]["year"] == {"2023": 1}
    assert search(client, headers, year=2023, date_from="2023-06-01")["total"] == 0
    assert search(client, headers, customer="3300012345", year=2024)["total"] == 1


def test_date_sort_and_the_next_cursor(client, filed) -> None:
    headers, ids = filed["headers"], filed["ids"]
    newest_first = [ids[d] for d in ("2024-02-01", "2023-05-04", "2022-09-09")]
    walked, after = [], None
    while True:
        page = search(client, headers, q="窃电", sort="date", size=1,
                      **({"after": after} if after else {}))
        walked += [h["record_id"] for h in page["hits"]]
        after = page["next"]
        if after is None:
            break
    assert walked == newest_first


@pytest.mark.parametrize("params", [
    {"q": "窃电", "sort": "oldest"},
    {"q": "窃电", "after": "not-a-cursor"},
    {"date_from": "2024-01-01", "date_to": "2023-01-01"},
    {"security_level": "绝密"},
    {"year": 0},
    {"year": "二〇二三"},
    {"q": "电" * 300},
])
def test_bad_parameters_are_refused(client, filed, params) -> None:
    response = client.get("/api/v1/search", params=params, headers=filed["headers"])
    assert response.status_code == 422, response.text
