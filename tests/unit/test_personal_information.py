"""Finding personal values in page text, and masking them by span."""

from __future__ import annotations

import pytest

from search.personal import Span, digits_of, find_personal, mask, mask_value, personal_values


def masked(text: str, known=()) -> str:
    return mask(text, find_personal(text, known))


@pytest.mark.parametrize(("text", "expected"), [
    ("联系电话：13800001234", "联系电话：138****1234"),
    ("手机 138 0000 1234。", "手机 138 **** 1234。"),
    ("证件号码 330106199001013456", "证件号码 330106********3456"),
    ("身份证 33010619900101345X", "身份证 330106********345X"),
    ("旧证 330106900101345", "旧证 330106*****1345"),
    ("缴费账号 6222021234567890123", "缴费账号 6222***********0123"),
    ("卡号 6222 0212 3456 7890", "卡号 6222 **** **** 7890"),
    ("开户账号：1202 0219 0900 5566 778", "开户账号：1202 **** **** ***6 778"),
    ("对公账号 33050161234500001", "对公账号 3305*********0001"),
    ("电话 0571-88886666", "电话 057*-****6666"),
    ("（0571）88886666", "（057*）****6666"),
    ("联系电话 88886666", "联系电话 888*6666"),
    ("电话１３８００００１２３４", "电话１３８****１２３４"),
    # the formats the attacker's pass found unmasked
    ("手机 1381 2345 678", "手机 138* ***5 678"),
    ("回访 8613812345670", "回访 861******5670"),
    ("回访 +8613812345679", "回访 +861******5679"),
    ("138.1234.5671", "138.****.5671"),
    ("138\u30001234\u30005672", "138\u3000****\u30005672"),
    ("138–1234–5673", "138–****–5673"),
    ("电话：138\n12345674", "电话：138\n****5674"),
    ("0571 8888 6666", "057* **** 6666"),
    ("110101 19900307 1234", "110101 ******** 1234"),
    ("110101-19900307-1235", "110101-********-1235"),
    ("胡佳 1855 920 2768 / 330108-19760711-0025", "胡佳 185* *** 2768 / 330108-********-0025"),
    # and those of the second pass
    ("电话：137/5501/0001", "电话：137/****/0001"),
    ("110101/19881111/2211", "110101/********/2211"),
    ("137_5502_0002", "137_****_0002"), ("137 - 5503 - 0003", "137 - **** - 0003"),
    ("137 -5511- 0011", "137 -****- 0011"), ("137~5504~0004", "137~****~0004"),
    ("137\u22125505\u22120005", "137\u2212****\u22120005"),
    ("137\u200b5506\u200b0006", "137\u200b****\u200b0006"),
    ("137,5507,0007", "137,****,0007"), ("110101,19881112,2212", "110101,********,2212"),
    ("137，5508，0008", "137，****，0008"), ("137:5509:0009", "137:****:0009"),
    ("137\xa05510\xa00010", "137\xa0****\xa00010"),
    ("卡号 6222\xa07777\xa08888\xa01234", "卡号 6222\xa0****\xa0****\xa01234"),
])
def test_personal_values_are_masked(text, expected) -> None:
    assert masked(text) == expected
    assert len(masked(text)) == len(text)


@pytest.mark.parametrize("text", [
    "户号 3300012345", "金额 0.6123151411625729 元", "比例 12.138000012345",
    "申请编号：SQ20240318-0042", "封印号 FY20150302", "日期 2024-03-18 2024年3月18日",
    "电能表资产号 3330001000100123456789", "容量 8000 kVA", "示数 1234.5",
    "户号 3300012345 户号 3300012346", "第 1 2 3 4 5 6 7 8 9 10 11 页",
])
def test_what_only_looks_personal_is_left_alone(text) -> None:
    assert find_personal(text) == ()


def test_numbers_side_by_side_are_read_apart() -> None:
    text = "户号 3300012345 13800001234 6222 0212 3456 7890 123"
    assert [(text[s.start:s.end], s.kind) for s in find_personal(text)] == [
        ("13800001234", "phone"), ("6222 0212 3456 7890 123", "bank")]


def test_known_values_are_found_however_spaced() -> None:
    known = [("phone", "057188886666"), ("id", "330106199001013456")]
    text = "联系 0571 8888 6666，证号 330106 19900101 3456"
    spans = find_personal(text, known)
    assert [s.kind for s in spans] == ["phone", "id"]
    assert "8888" not in mask(text, spans) and "19900101" not in mask(text, spans)
    assert personal_values(text, spans) == ("057188886666", "330106199001013456")


def test_field_masks_and_page_masks_show_the_same_digits() -> None:
    assert mask_value("phone", "13800001234") == "138****1234"
    assert mask_value("id", "330106199001013456") == "330106********3456"
    assert mask_value("bank", "6222021234567890123") == "6222***********0123"
    assert mask_value("phone", "12345") == "*****"
    assert masked("13800001234") == mask_value("phone", "13800001234")


def test_spans_round_trip_and_digits() -> None:
    span = Span(3, 14, "phone")
    assert Span.from_list(span.to_list()) == span
    assert digits_of("１３８-0000 1234") == "13800001234"
    assert digits_of("33010619900101345X") == "33010619900101345x"
