"""SearchBackend contract: every backend passes the same behaviour suite."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from search import InvalidQuery, SearchBackend, SearchDocument, SearchQuery, TextScope


def make_doc(record_id: str, **overrides) -> SearchDocument:
    fields = {
        "record_id": record_id,
        "dossier_id": "d-" + record_id,
        "customer_account": "3300012345",
        "customer_name": "杭州明达纺织有限公司",
        "doc_type": "供用电合同",
        "category": "业扩报装",
        "title": "高压供用电合同",
        "doc_date": date(2023, 5, 4),
        "unit": "xh",
        "unit_path": "/root/hz/xh/",
        "security_level": "内部",
        "address": "浙江省杭州市西湖区文三路88号",
        "customer_class": "高压",
        "pages": ((1, "供电人：国网杭州供电公司\n用电人：杭州明达纺织有限公司"),),
    }
    fields.update(overrides)
    return SearchDocument(**fields)


CORPUS = [
    make_doc("r1", pages=(
        (1, "第一条 供电方式：供电人以10kV电压向用电人供电。"),
        (2, "第八条 违约责任：用电人有窃电行为的，供电人有权中止供电并追补电费。"),
        (3, "本合同有效期三年，期满双方均未提出异议的，自动续签。"),
    )),
    make_doc("r2", customer_account="3300012346", customer_name="张伟",
             doc_type="安全用电检查记录", category="用电检查", title="安全用电检查记录",
             doc_date=date(2024, 1, 15), unit="gs", unit_path="/root/hz/gs/",
             address="浙江省杭州市拱墅区湖墅南路5号", security_level="公开",
             customer_class="低压居民",
             pages=((1, "检查项目：漏电保护器动作正常，接地电阻合格。整改意见：无。"),)),
    make_doc("r3", customer_account="33000123450", customer_name="李娜",
             doc_type="用电申请书", title="低压居民用电申请书", doc_date=date(2022, 3, 1),
             security_level="受限", customer_class="低压居民",
             pages=((1, "申请人李娜申请新装低压居民用电，申请容量8kVA。联系电话13800000000"),)),
    make_doc("r4", customer_account="3300099999", customer_name="王强",
             doc_type="计量装置装拆表工作单", category="电能计量", title="计量装置装拆表工作单",
             doc_date=date(2024, 6, 30), unit="gs", unit_path="/root/hz/gs/",
             pages=((1, "表号：No.A2331 互感器变比 200/5 拆表示数 1234.5"),)),
]


@pytest.fixture
def loaded(search_backend: SearchBackend) -> SearchBackend:
    assert search_backend.index(CORPUS) == len(CORPUS)
    search_backend.refresh()
    return search_backend


def ids(backend: SearchBackend, **query) -> list[str]:
    return [hit.record_id for hit in backend.search(SearchQuery(**query)).hits]


def test_chinese_word_finds_its_documents(loaded: SearchBackend) -> None:
    assert ids(loaded, q="窃电") == ["r1"]
    assert ids(loaded, q="漏电保护器") == ["r2"]
    assert set(ids(loaded, q="合同")) == {"r1"}


def test_every_term_is_required_across_pages(loaded: SearchBackend) -> None:
    # 窃电 is on page 2 and 续签 on page 3 of the same record.
    assert ids(loaded, q="窃电 续签") == ["r1"]
    assert ids(loaded, q="窃电 漏电保护器") == []


def test_quoted_phrase_is_exact(loaded: SearchBackend) -> None:
    assert ids(loaded, q='"自动续签"') == ["r1"]
    assert ids(loaded, q='"续签自动"') == []
    assert ids(loaded, q='"中止供电并追补"') == ["r1"]


def test_phrases_of_any_length_and_next_to_numbers(loaded: SearchBackend) -> None:
    # one character, a lone character after or before a number, a phrase that ends
    # on a number, and one that runs over punctuation (as Elasticsearch's phrase does)
    assert ids(loaded, q='"窃"') == ["r1"]
    assert ids(loaded, q='"签"') == ["r1"]  # the last char of its sentence
    assert ids(loaded, q='"10kv电"') == ["r1"]
    assert ids(loaded, q='"以10kv"') == ["r1"]
    assert ids(loaded, q='"量8kva"') == ["r3"]
    assert ids(loaded, q='"10kv压"') == []
    assert ids(loaded, q='"常接"') == ["r2"]  # 动作正常，接地电阻
    assert ids(loaded, q='"费本"') == []  # pages do not run into each other


def test_full_width_and_case_are_normalised(loaded: SearchBackend) -> None:
    assert ids(loaded, q="ＮＯ．Ａ２３３１") == ["r4"]
    assert ids(loaded, q="no.a2331") == ["r4"]


def test_account_number_matches_exactly(loaded: SearchBackend) -> None:
    assert ids(loaded, q="3300012345") == ["r1"]
    assert ids(loaded, q="33000123450") == ["r3"]
    assert ids(loaded, q="330001234") == []
    assert ids(loaded, customer="3300012346") == ["r2"]


def test_catalogue_fields_are_searchable(loaded: SearchBackend) -> None:
    assert ids(loaded, q="王强") == ["r4"]
    assert ids(loaded, q="湖墅南路") == ["r2"]
    assert set(ids(loaded, q="明达纺织")) == {"r1"}


def test_filters(loaded: SearchBackend) -> None:
    assert set(ids(loaded, doc_type="供用电合同")) == {"r1"}
    assert set(ids(loaded, category="用电检查")) == {"r2"}
    assert set(ids(loaded, unit="gs")) == {"r2", "r4"}
    assert set(ids(loaded, unit_paths=("/root/hz/xh/",))) == {"r1", "r3"}
    assert ids(loaded, unit_paths=()) == []
    assert set(ids(loaded, security_levels=("公开", "内部"))) == {"r1", "r2", "r4"}
    assert set(ids(loaded, date_from=date(2024, 1, 1))) == {"r2", "r4"}
    assert set(ids(loaded, date_to=date(2023, 1, 1))) == {"r3"}
    assert ids(loaded, q="供电", unit="gs") == []


def test_empty_query_lists_newest_first(loaded: SearchBackend) -> None:
    assert ids(loaded) == ["r4", "r2", "r1", "r3"]


def test_totals_and_facets_count_filtered_records(loaded: SearchBackend) -> None:
    result = loaded.search(SearchQuery(unit_paths=("/root/hz/gs/",), size=1))
    assert result.total == 2
    assert len(result.hits) == 1
    assert result.facets["doc_type"] == {"安全用电检查记录": 1, "计量装置装拆表工作单": 1}
    assert result.facets["unit"] == {"gs": 2}


def test_year_facet_counts_dated_records_newest_first(loaded: SearchBackend) -> None:
    """GIVEN records of 2022, 2023 and two of 2024, and one without a date
    WHEN searched without a year
    THEN the year facet counts each year's records, newest year first, and leaves the
    dateless one out (it is still in the total)."""
    loaded.index([make_doc("r5", doc_date=None, title="无日期文件")])
    loaded.refresh()
    result = loaded.search(SearchQuery())
    assert result.total == 5
    assert result.facets["year"] == {"2024": 2, "2023": 1, "2022": 1}
    assert list(result.facets["year"]) == ["2024", "2023", "2022"]
    assert loaded.search(SearchQuery(q="无日期文件")).facets["year"] == {}


def test_year_facet_counts_only_what_the_caller_may_find(loaded: SearchBackend) -> None:
    """The year counts pass the same trimming and filters as the other facets."""
    def years(**query) -> dict[str, int]:
        return loaded.search(SearchQuery(**query)).facets["year"]

    assert years(unit_paths=("/root/hz/gs/",)) == {"2024": 2}
    assert years(unit_paths=()) == {}
    assert years(security_levels=("公开", "内部")) == {"2024": 2, "2023": 1}
    assert years(customer_class="低压居民") == {"2024": 1, "2022": 1}
    assert years(q="杭州", date_to=date(2023, 12, 31)) == {"2023": 1, "2022": 1}
    # 窃电 is only in r1's page text: outside the text scope it finds, and counts, nothing
    assert years(q="窃电") == {"2023": 1}
    assert years(q="窃电", text_scope=TextScope(units=("/root/hz/gs/",),
                                               levels=("公开", "内部"))) == {}


def test_filter_by_year(loaded: SearchBackend) -> None:
    loaded.index([make_doc("r5", doc_date=None)])
    loaded.refresh()
    assert ids(loaded, year=2024) == ["r4", "r2"]
    assert ids(loaded, year=2023) == ["r1"]
    assert ids(loaded, year=2021) == []
    assert ids(loaded, q="杭州", year=2022) == ["r3"]
    # with a date range both apply
    assert ids(loaded, year=2024, date_from=date(2024, 3, 1)) == ["r4"]
    assert ids(loaded, year=2024, date_to=date(2024, 3, 1)) == ["r2"]
    assert ids(loaded, year=2023, date_from=date(2024, 1, 1)) == []
    chosen = loaded.search(SearchQuery(year=2024))
    assert chosen.total == 2
    assert chosen.facets["year"] == {"2024": 2}
    assert chosen.facets["doc_type"] == {"安全用电检查记录": 1, "计量装置装拆表工作单": 1}
    with pytest.raises(InvalidQuery):
        loaded.search(SearchQuery(year=0))


def test_pagination(loaded: SearchBackend) -> None:
    first = ids(loaded, size=2, page=1)
    second = ids(loaded, size=2, page=2)
    assert len(first) == len(second) == 2
    assert set(first).isdisjoint(second)


def test_highlights_name_their_page(loaded: SearchBackend) -> None:
    hit = loaded.search(SearchQuery(q="窃电")).hits[0]
    assert [h.page for h in hit.highlights] == [2]
    assert "<em>窃电</em>" in hit.highlights[0].text


def test_reindex_replaces_and_delete_removes(loaded: SearchBackend) -> None:
    loaded.index([replace(CORPUS[1], pages=((1, "复查：漏电保护器已更换"),))])
    loaded.refresh()
    assert ids(loaded, q="接地电阻") == []
    assert ids(loaded, q="已更换") == ["r2"]
    loaded.delete(["r2", "unknown"])
    loaded.refresh()
    assert ids(loaded, q="漏电保护器") == []
    assert loaded.search(SearchQuery()).total == 3


def test_rebuild_replaces_everything(loaded: SearchBackend) -> None:
    assert loaded.rebuild([CORPUS[0], make_doc("r9", title="新合同", pages=((1, "窃电"),))]) == 2
    loaded.refresh()
    assert set(ids(loaded, q="窃电")) == {"r1", "r9"}
    assert ids(loaded, q="漏电保护器") == []
    assert loaded.search(SearchQuery()).total == 2


def test_traditional_characters_find_simplified_text(loaded: SearchBackend) -> None:
    assert ids(loaded, q="竊電") == ["r1"]
    assert ids(loaded, q='"漏電保護器"') == ["r2"]
    assert ids(loaded, name="張偉") == ["r2"]


def test_name_and_address_match_their_own_field(loaded: SearchBackend) -> None:
    assert ids(loaded, name="明达") == ["r1"]
    assert ids(loaded, name="李娜") == ["r3"]
    assert ids(loaded, name="文三路") == []  # in the address, not the name
    assert set(ids(loaded, address="文三路88号")) == {"r1", "r3", "r4"}
    assert ids(loaded, address="湖墅南路") == ["r2"]
    assert ids(loaded, address="88号文三路") == []  # a phrase, in order
    assert ids(loaded, address="文三路8") == []  # 88 is one token: no partial numbers
    assert ids(loaded, name="明达", q="窃电") == ["r1"]


def test_customer_class_filter_and_facet(loaded: SearchBackend) -> None:
    assert set(ids(loaded, customer_class="低压居民")) == {"r2", "r3"}
    assert loaded.search(SearchQuery()).facets["customer_class"] == {"高压": 2, "低压居民": 2}


def test_sort_by_date_or_relevance(loaded: SearchBackend) -> None:
    # 杭州 is in every address: by date the newest comes first, whatever the score
    by_date = ids(loaded, q="申请", sort="date")
    assert by_date == ["r3"]
    both = ids(loaded, q="杭州", sort="date")
    assert both == ["r4", "r2", "r1", "r3"]
    assert set(ids(loaded, q="杭州")) == set(both)


def test_cursor_walks_every_hit_once_in_order(search_backend: SearchBackend) -> None:
    docs = [make_doc(f"c{i:03d}", doc_date=date(2020, 1, 1 + i % 28) if i % 7 else None,
                     pages=((1, "窃电 " * (1 + i % 5)),)) for i in range(57)]
    search_backend.index(docs)
    search_backend.refresh()
    for sort in ("relevance", "date"):
        whole = [h.record_id for h in search_backend.search(
            SearchQuery(q="窃电", sort=sort, size=100)).hits]
        walked, after = [], None
        while True:
            result = search_backend.search(SearchQuery(q="窃电", sort=sort, size=10,
                                                       after=after))
            walked += [h.record_id for h in result.hits]
            assert result.total == 57
            if result.next is None:
                break
            after = result.next
        assert walked == whole
        assert len(set(walked)) == 57


def test_a_bad_cursor_is_refused(loaded: SearchBackend) -> None:
    import base64
    import json

    def cursor(values: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    forged = [cursor(v) for v in ([{"a": 1}, []], [[], []], [{}, {}, {}], [10 ** 30, "x"],
                                  [10 ** 30, "2024-01-01", "x"], [True, "x", "y"],
                                  ["x" * 500, "y"])]
    for after in ("not-a-cursor", "WzFd", "eyJhIjogMX0", *forged):
        for q in ("窃电", None):
            with pytest.raises(InvalidQuery):
                loaded.search(SearchQuery(q=q, after=after))


def test_digests_fingerprint_each_entry(loaded: SearchBackend) -> None:
    assert dict(loaded.digests()) == {doc.record_id: doc.digest for doc in CORPUS}
    changed = replace(CORPUS[0], title="高压供用电合同（补充）")
    assert changed.digest != CORPUS[0].digest


def test_searches_keep_answering_during_a_rebuild(loaded: SearchBackend) -> None:
    import threading

    answers: list[int] = []
    failures: list[Exception] = []
    done = threading.Event()

    def keep_searching() -> None:
        while not done.is_set():
            try:
                answers.append(loaded.search(SearchQuery(q="窃电")).total)
            except Exception as exc:  # any failure is the finding
                failures.append(exc)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        added = [make_doc(f"x{i:03d}", pages=((1, "用电人窃电，追补电费"),)) for i in range(300)]
        assert loaded.rebuild([*CORPUS, *added]) == 304
        loaded.refresh()
    finally:
        done.set()
        searcher.join()
    assert not failures
    assert answers and set(answers) <= {1, 301}  # the old index or the new, never a half
    assert loaded.search(SearchQuery(q="窃电")).total == 301


PERSONAL = [
    make_doc("p1", title="用电申请书", security_level="内部",
             pages=((1, "申请人联系电话13957106341，证件号码330106199001013456，窃电整改"),)),
    make_doc("p2", title="用电申请书（受限）", security_level="受限", dossier_id="d-lent",
             pages=((1, "受限页的整改通知：窃电追补电费"),)),
    make_doc("p3", title="窃电处理记录", security_level="受限",
             pages=((1, "窃电 窃电 窃电 窃电 整改 整改"),)),
]
OPEN = TextScope(units=("/root/hz/xh/",), levels=("公开", "内部"))


@pytest.fixture
def personal(search_backend: SearchBackend) -> SearchBackend:
    search_backend.index(PERSONAL)
    search_backend.refresh()
    return search_backend


def test_personal_values_are_indexed_masked(personal: SearchBackend) -> None:
    for q in ("13957106341", "330106199001013456", '"13957106341"', "5710"):
        assert ids(personal, q=q) == [], q
    assert ids(personal, q="6341") == ["p1"]  # what the mask shows is found
    [hit] = personal.search(SearchQuery(q="证件号码")).hits
    assert "330106********3456" in hit.highlights[0].text and not hit.personal_shown
    assert "199001013456" not in hit.highlights[0].text


def test_whole_values_are_found_where_the_caller_sees_them(personal: SearchBackend) -> None:
    seen = ("/root/hz/",)
    for q in ("13957106341", "330106199001013456", '"139 5710 6341"'):
        assert ids(personal, q=q, personal_units=seen) == ["p1"], q
        assert ids(personal, q=q, personal_units=("/root/hz/gs/",)) == [], q
    assert ids(personal, q="13957106341 窃电", personal_units=seen) == ["p1"]  # several terms
    [hit] = personal.search(SearchQuery(q="证件号码", personal_units=seen)).hits
    assert "330106199001013456" in hit.highlights[0].text and hit.personal_shown
    # a whole value is page text: out of the text scope it finds nothing
    assert ids(personal, q="13957106341", personal_units=seen,
               text_scope=TextScope(units=("/root/hz/xh/",), levels=("公开",))) == []


def test_out_of_scope_records_match_on_their_catalogue_only(personal: SearchBackend) -> None:
    assert set(ids(personal, q="窃电")) == {"p1", "p2", "p3"}
    # p2's page holds 窃电 but it is above the scope's levels; p3 has it in its title
    assert set(ids(personal, q="窃电", text_scope=OPEN)) == {"p1", "p3"}
    assert ids(personal, q='"整改通知"', text_scope=OPEN) == []
    assert set(ids(personal, q="窃电 整改", text_scope=OPEN)) == {"p1"}
    assert ids(personal, q="窃电 记录", text_scope=OPEN) == ["p3"]
    # lent: the dossier is open to the caller whatever its level
    lent = TextScope(units=OPEN.units, levels=OPEN.levels, dossiers=("d-lent",))
    assert ids(personal, q='"整改通知"', text_scope=lent) == ["p2"]
    assert ids(personal, q='"整改通知"', text_scope=TextScope(records=("p2",))) == ["p2"]
    assert ids(personal, q='"整改通知"', text_scope=TextScope()) == []


def test_an_out_of_scope_score_does_not_depend_on_its_pages(
        search_backend: SearchBackend) -> None:
    """Two restricted records alike but in how often their pages hold the term: out of
    the text scope they score alike, so their order tells nothing of their text."""
    twins = [make_doc(f"t{i}", title="窃电处理记录", security_level="受限",
                      customer_account=f"33000000{i}0", pages=((1, "窃电 " * (1 + 5 * i)),))
             for i in range(2)]
    search_backend.index(twins)
    search_backend.refresh()
    inside = search_backend.search(SearchQuery(q="窃电")).hits
    assert inside[0].score != inside[1].score  # the pages count within the scope
    for q in ("窃电", "窃电 记录"):
        outside = search_backend.search(SearchQuery(q=q, text_scope=OPEN)).hits
        assert len(outside) == 2 and outside[0].score == pytest.approx(outside[1].score), q


def test_highlights_are_html_safe(search_backend: SearchBackend) -> None:
    search_backend.index([make_doc("h1", pages=((1, '窃电 <img src=x onerror="x()"> 整改'),))])
    search_backend.refresh()
    [hit] = search_backend.search(SearchQuery(q="onerror")).hits
    text = hit.highlights[0].text
    assert "<img" not in text and "&lt;img" in text and "<em>onerror</em>" in text


def test_personal_values_typed_into_catalogue_fields_are_masked(
        search_backend: SearchBackend) -> None:
    search_backend.index([make_doc("c1", title="回访记录 13957106341",
                                   address="文三路88号 联系 18559202768")])
    search_backend.refresh()
    for query in ({"q": "13957106341"}, {"q": "18559202768"}, {"address": "18559202768"}):
        assert ids(search_backend, **query) == [], query
    assert ids(search_backend, q="13957106341", personal_units=("/root/",)) == ["c1"]
    assert ids(search_backend, q="回访记录") == ["c1"]


def test_a_document_without_words_indexes_and_a_refused_one_stops_no_other(
        search_backend: SearchBackend) -> None:
    from search import DocumentsRefused
    from search.base import MAX_PAGES

    blank = make_doc("blank", title="空白页", pages=((1, ""), (2, "   \n ")))
    marks = make_doc("marks", title="标点页", pages=((1, "。，、——……！？（）"),))
    empty = make_doc("empty", title="无页", pages=())
    huge = make_doc("huge", pages=tuple((n, "页") for n in range(1, MAX_PAGES + 2)))
    after = make_doc("after", title="合同", pages=((1, "之后的窃电记录"),))
    with pytest.raises(DocumentsRefused) as refused:
        search_backend.index([blank, marks, huge, empty, after])
    assert list(refused.value.reasons) == ["huge"] and "pages" in refused.value.reasons["huge"]
    assert refused.value.indexed == 4
    search_backend.refresh()
    found = {hit.record_id for hit in search_backend.search(SearchQuery(q="窃电")).hits}
    assert found == {"after"}
    for record_id, title in (("blank", "空白页"), ("marks", "标点页"), ("empty", "无页")):
        hits = search_backend.search(SearchQuery(q=title)).hits
        assert [hit.record_id for hit in hits] == [record_id]
    with pytest.raises(DocumentsRefused) as again:
        search_backend.rebuild([huge, after])
    assert list(again.value.reasons) == ["huge"]
    search_backend.refresh()
    assert {d for d, _ in search_backend.digests()} == {"after"}
