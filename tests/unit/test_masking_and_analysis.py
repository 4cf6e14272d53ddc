"""Small pure functions: personal-information masking and Chinese query analysis."""

from __future__ import annotations

import pytest

from archive.services.masking import Shown, mask_free_text
from search.analysis import chars, highlight_pages, normalise, parse_query, words
from search.errors import InvalidQuery


def test_masking_of_fields_and_free_text() -> None:
    hidden = Shown(personal=False)
    assert hidden.field("id", "330106199001013456") == "330106********3456"
    assert hidden.field("phone", "13800001234") == "138****1234"
    assert Shown(personal=True).field("phone", "13800001234") == "13800001234"
    text = "证件号码：33010619900101345X 电话 13800001234 账号 6222021234567890123 户号 3300012345"
    assert mask_free_text(text) == ("证件号码：330106********345X 电话 138****1234 "
                               "账号 6222***********0123 户号 3300012345")


def test_normalisation_folds_width_and_case() -> None:
    assert normalise("ＡＢＣ１２３：") == "abc123:"
    assert chars("供电 10ＫＶ No.A2331") == ["供", "电", "10kv", "no.a2331"]


def test_domain_dictionary_keeps_power_supply_terms_whole() -> None:
    assert "窃电" in words("用电人窃电的，供电人有权中止供电")
    assert "漏电保护器" in words("检查漏电保护器动作是否正常")
    assert "供用电合同" in words("本供用电合同一式两份")


def test_query_parsing() -> None:
    parsed = parse_query('窃电 "自动 续签" 3300012345')
    assert [(t.text, t.phrase) for t in parsed.terms] == [
        ("窃电", False), ("自动 续签", True), ("3300012345", False)]
    assert parsed.terms[1].chars == ("自", "动", "续", "签")
    assert parse_query("  ").empty
    with pytest.raises(InvalidQuery):
        parse_query("电" * 300)


def test_highlights_name_pages_and_mark_terms() -> None:
    pages = [(1, "第一条 供电方式"), (2, "用电人窃 电的，供电人有权中止供电")]
    found = highlight_pages(pages, parse_query("窃电"))
    assert [(h.page, h.text) for h in found] == [(2, "用电人<em>窃电</em>的，供电人有权中止供电")]


def test_traditional_characters_fold_to_simplified_one_for_one() -> None:
    assert normalise("臺灣電力 竊電 漏電保護器") == "台湾电力 窃电 漏电保护器"
    assert len(normalise("電")) == 1
    assert [t.text for t in parse_query("竊電").terms] == ["窃电"]


def test_highlights_keep_the_page_as_written() -> None:
    # full-width and traditional text is matched normalised and shown as it was written
    pages = [(1, "表號：ＮＯ．Ａ２３３１ 用電人竊電"), (2, "漏电保护器")]
    found = highlight_pages(pages, parse_query("no.a2331 窃电"))
    assert [(h.page, h.text) for h in found] == [
        (1, "表號：<em>ＮＯ</em>．<em>Ａ２３３１</em> 用電人<em>竊電</em>")]


def test_due_dates_follow_the_document_year_or_the_filing_year_in_china() -> None:
    from datetime import date

    from archive.services.retention import due_date

    assert due_date("D30", date(2015, 3, 2), date(2026, 11, 23)) == date(2046, 1, 1)
    assert due_date("D10", date(2015, 12, 31), date(2026, 11, 23)) == date(2026, 1, 1)
    assert due_date("Y", date(2015, 3, 2), date(2026, 11, 23)) is None
    # undated: counted from the day it is filed, which is 2027 in Hangzhou at 07:00 on
    # 1 January even though it is still 2026 in UTC
    assert due_date("D10", None, date(2027, 1, 1)) == date(2038, 1, 1)
    from datetime import UTC, datetime, timedelta

    from archive.services.retention import filing_date

    assert filing_date() == (datetime.now(UTC) + timedelta(hours=8)).date()
