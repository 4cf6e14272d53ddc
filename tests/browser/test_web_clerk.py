"""The business clerk's journey in the browser: sign in, search a phrase, open the hit at
its page in the viewer with the hit marked and the watermark drawn, request a restricted
record; and the refusals of what the role may not do."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_the_login_page_names_its_fields_in_chinese(visit, shots) -> None:
    seen = visit(None)
    page = seen.page
    response = page.goto("/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    page.get_by_role("button", name="登录").wait_for()
    assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()
    assert axe_violations(page) == []
    page.screenshot(path=shots / "01-login.png")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in page.get_by_role("alert").inner_text()


def test_the_clerk_searches_a_phrase_and_opens_the_hit_at_its_page(visit, world, shots,
                                                                   record_property) -> None:
    page = visit("clerk").page
    page.get_by_role("navigation", name="主导航").get_by_text("档案检索").click()
    box = page.get_by_role("searchbox", name="搜索")
    box.fill('"专用变压器"')
    box.press("Enter")
    hit = page.get_by_test_id("hit").filter(has_text="高压供用电合同")
    hit.wait_for()
    assert "第 2 页" in hit.inner_text()
    assert hit.locator("mark").first.inner_text() == "专用变压器"
    results = page.get_by_test_id("results")
    page.wait_for_function("document.querySelector('[data-testid=results]')"
                           ".dataset.renderMs !== ''")
    record_property("search_render_ms", results.get_attribute("data-render-ms"))
    print(f"search rendered {results.get_attribute('data-render-ms')} ms after the answer")
    assert axe_violations(page) == []
    page.screenshot(path=shots / "02-search.png", full_page=True)

    hit.get_by_role("link", name="高压供用电合同").click()
    page.get_by_test_id("page-indicator").filter(has_text="第 2 / 2 页").wait_for()
    sheet = page.get_by_test_id("sheet")
    assert sheet.get_attribute("data-page") == "2"
    assert sheet.get_attribute("data-watermark").startswith("clerk ")
    page.get_by_test_id("hit-mark").first.wait_for()
    # personal fields as the server masked them for a clerk without the clearance
    phone = page.get_by_test_id("customer-phone").inner_text()
    assert "13800001234" not in phone and "*" in phone, phone
    assert "*" in page.get_by_test_id("customer-id").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=shots / "03-record.png", full_page=True)


def test_the_clerk_narrows_a_search_to_a_year(visit, world) -> None:
    """GIVEN the two seeded contracts, both dated 2023-05-04
    WHEN the clerk searches their type and picks 2023 in the 年份 facet
    THEN the facet counted them in 2023, the year becomes a chosen filter (in the address
    too) and both hits stay."""
    page = visit("clerk").page
    page.goto("/search?q=供用电合同")
    titles = ("高压供用电合同", "违章用电及窃电处理记录")
    for title in titles:
        page.get_by_test_id("hit").filter(has_text=title).wait_for()
    years = page.locator(".facets section").filter(
        has=page.get_by_role("heading", name="年份", exact=True))
    year = years.locator(".el-check-tag").filter(has_text="2023")
    counted = re.fullmatch(r"\s*2023（(\d+)）\s*", year.inner_text())
    assert counted and int(counted[1]) >= len(titles), year.inner_text()
    with page.expect_response(lambda r: "/api/v1/search?" in r.url
                              and "year=2023" in r.url) as asked:
        year.click()
    answer = asked.value.json()
    assert (answer["total"], answer["facets"]["year"]) == (int(counted[1]),
                                                           {"2023": int(counted[1])})
    page.wait_for_url(re.compile(r"[?&]year=2023(&|$)"))
    page.locator(".facets .el-check-tag.is-checked").filter(has_text="2023").wait_for()
    page.get_by_role("button", name="清除筛选").wait_for()
    for title in titles:
        page.get_by_test_id("hit").filter(has_text=title).wait_for()
    assert page.get_by_test_id("hit").count() == min(int(counted[1]), 20)
    assert axe_violations(page) == []


def test_the_clerk_requests_a_restricted_record(visit, world) -> None:
    page = visit("clerk").page
    page.goto("/search?q=窃电")
    hit = page.get_by_test_id("hit").filter(has_text="违章用电及窃电处理记录")
    assert "受限" in hit.inner_text()
    hit.get_by_role("button", name="申请借阅").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("借阅目的").fill("核对违章用电处理结果")
    dialog.get_by_role("button", name="提交申请").click()
    page.get_by_text("借阅申请已提交").wait_for()
    page.goto("/my-requests")
    row = page.get_by_test_id("my-requests").locator("tr", has_text=world.ids["archive_number"])
    row.first.wait_for()
    assert "待审批" in row.first.inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["/audit", "/upload", "/loans", "/policy", "/accounts"])
def test_a_clerk_typing_another_roles_address_is_refused(visit, path) -> None:
    seen = visit("clerk")
    page = seen.page
    asked = len(seen.requests)
    page.goto(path)
    page.get_by_role("alert").filter(has_text="无权访问").wait_for()
    assert any(url.endswith("/api/v1/auth/me") for url in seen.requests[asked:])
    menu = page.get_by_role("navigation", name="主导航").inner_text()
    assert "审计日志" not in menu and "扫描上传" not in menu and "档案检索" in menu
    assert re.search(r"/forbidden", page.url)
