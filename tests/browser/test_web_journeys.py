"""The archivist's, the auditor's and the security admin's journeys in the browser, on the
loan a clerk asked for: the archivist approves it and the clerk then reads the record; the
auditor finds it in the log, exports CSV and verifies the chain; a security admin's policy
edit that would break 三员分立 is refused with its reason on the page. The archivist also
uploads files and files an inbox item beside its pages (refused, with the reason, to one
without the personal-information clearance)."""

from __future__ import annotations

import re

import httpx2 as httpx
import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loan(world) -> str:
    """The clerk's pending request to read the restricted record (made in the browser by
    the clerk's journey when it ran first, else here through the API)."""
    clerk = world.token("clerk")
    for request in httpx.get(f"{world.base}/api/v1/borrow-requests", headers=clerk).json():
        if request["record_id"] == world.ids["restricted"] and request["status"] == "pending":
            return request["id"]
    answer = httpx.post(f"{world.base}/api/v1/borrow-requests", headers=clerk,
                        json={"record_id": world.ids["restricted"],
                              "purpose": "核对违章用电处理结果", "days": 7,
                              "kind": "electronic", "purpose_kind": "业务办理"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_the_archivist_approves_the_loan_and_the_clerk_then_reads(visit, world, loan,
                                                                  shots) -> None:
    page = visit("archivist").page
    page.goto("/loans")
    row = page.get_by_test_id("loan-row").filter(has_text="核对违章用电处理结果").first
    row.get_by_role("button", name="批准").click()
    dialog = page.get_by_role("dialog")
    if dialog.count():
        dialog.get_by_role("button", name="确定").last.click()
    page.wait_for_function(
        "() => !document.body.innerText.includes('核对违章用电处理结果') || "
        "document.body.innerText.includes('已批准')")
    assert axe_violations(page) == []
    state = httpx.get(f"{world.base}/api/v1/borrow-requests",
                      headers=world.token("clerk")).json()
    assert any(r["id"] == loan and r["status"] == "approved" for r in state)

    clerk = visit("clerk").page
    clerk.goto(f"/records/{world.ids['restricted']}")
    clerk.get_by_test_id("sheet").wait_for()
    assert clerk.get_by_test_id("sheet").get_attribute("data-watermark").startswith("clerk ")


def test_the_auditor_filters_the_log_to_the_loan_exports_and_verifies(visit, world, loan,
                                                                      shots) -> None:
    page = visit("auditor").page
    page.goto("/audit")
    page.get_by_label("对象编号").fill(loan)
    page.get_by_role("button", name="查询").click()
    rows = page.locator("tr.audit-row")
    rows.first.wait_for()
    page.wait_for_load_state("networkidle")
    shown = rows.all_inner_texts()
    assert shown and all("borrow" in text for text in shown), shown
    assert axe_violations(page) == []
    page.screenshot(path=shots / "04-audit.png", full_page=True)
    with page.expect_download() as pending:
        page.get_by_role("button", name="导出 CSV").click()
    exported = pending.value.path().read_text(encoding="utf-8-sig")
    assert loan in exported and exported.count("\n") >= 2
    page.get_by_role("button", name="验证审计链").click()
    status = page.get_by_role("status").filter(has_text="审计链")
    status.wait_for()
    assert "审计链完整" in status.inner_text()
    # the newest anchor is named (with its age), or its absence said
    assert re.search(r"最新锚点：第 \d+ 条事件|尚无锚点", status.inner_text())


def test_the_security_admins_refused_policy_edit_shows_its_reason(visit) -> None:
    page = visit("secadmin").page
    page.goto("/policy")
    page.get_by_role("heading", name="策略管理").wait_for()
    choose(page, "角色", "审计员")
    action = page.get_by_label("操作", exact=True).first
    action.click()
    page.keyboard.type("record:content")
    page.get_by_role("option", name="record:content", exact=True).first.click()
    page.get_by_role("button", name="添加规则").click()
    refusal = page.get_by_test_id("policy-refusal")
    refusal.wait_for()
    assert "三员分立" in refusal.inner_text() or "separation" in refusal.inner_text()
    assert axe_violations(page) == []


def test_the_archivist_uploads_three_files_and_watches_them_finish(visit, world,
                                                                  tmp_path, shots) -> None:
    from tests import documents

    page = visit("archivist").page
    page.goto("/upload")
    dossier = page.get_by_label("案卷", exact=True).first
    dossier.click()
    page.keyboard.type("3301000001")
    page.get_by_role("option").filter(has_text=world.ids["archive_number"]).first.click()
    choose(page, "文件类型", "供用电合同")
    page.get_by_label("题名", exact=True).first.fill("低压供用电合同（补扫）")
    files = []
    for number in range(3):
        path = tmp_path / f"scan-{number}.pdf"
        path.write_bytes(documents.text_pdf([f"补扫 第{number}份 供用电合同 计量 {number}"]))
        files.append(str(path))
    page.locator("input[type=file]").set_input_files(files)
    items = page.get_by_test_id("upload-item")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=upload-item]')]"
        ".filter(e => e.innerText.includes('已完成')).length === 3", timeout=120_000)
    assert items.count() == 3
    assert axe_violations(page) == []
    page.screenshot(path=shots / "05-upload.png", full_page=True)


def test_the_archivist_files_an_inbox_item_from_the_split_view(visit, world, shots) -> None:
    httpx.post(f"{world.base}/api/v1/customers", headers=world.token("archivist"), json={
        "account": "3309999999", "name": "杭州新客户商贸有限公司", "customer_class": "低压",
        "voltage": "0.4kV", "address": "杭州市拱墅区", "phone": "13900001111",
        "id_number": "330105198001011234", "unit": "xh"}).raise_for_status()
    page = visit("archivist").page
    page.goto("/inbox")
    page.get_by_text("unknown.pdf").first.wait_for()
    # the selected item's pages, drawn in the viewer with the archivist's watermark
    pages = page.get_by_test_id("inbox-pages")
    sheet = pages.get_by_test_id("sheet")
    pages.get_by_test_id("page-indicator").filter(has_text="第 1 / 1 页").wait_for()
    assert sheet.get_attribute("data-page") == "1"
    assert sheet.get_attribute("data-watermark").startswith("archivist ")
    wait_drawn(page, sheet)
    # j moves to the next item and its two pages, k back
    page.keyboard.press("j")
    page.get_by_role("heading", name="waiting-memo.pdf").wait_for()
    pages.get_by_test_id("page-indicator").filter(has_text="第 1 / 2 页").wait_for()
    wait_drawn(page, sheet)
    page.keyboard.press("k")
    page.get_by_role("heading", name="unknown.pdf").wait_for()
    pages.get_by_test_id("page-indicator").filter(has_text="第 1 / 1 页").wait_for()
    wait_drawn(page, sheet)
    assert axe_violations(page) == []
    page.screenshot(path=shots / "06-inbox.png", full_page=True)
    page.get_by_label("户号", exact=True).first.fill("3309999999")
    page.get_by_role("button", name="归档并转到下一条").click()
    page.get_by_text("已归档").first.wait_for()
    waiting = httpx.get(f"{world.base}/api/v1/inbox", headers=world.token("archivist")).json()
    assert all(item["original_filename"] != "unknown.pdf" for item in waiting)
    # the next one is selected, and its pages shown
    page.get_by_role("heading", name="waiting-memo.pdf").wait_for()
    pages.get_by_test_id("page-indicator").filter(has_text="第 1 / 2 页").wait_for()
    assert axe_violations(page) == []


def test_an_archivist_without_personal_clearance_sees_why_no_pages(visit, world) -> None:
    """GIVEN an archivist of the unit without the personal-information clearance WHEN they
    open 待归档 THEN the server's refusal stands in place of the pages, in Chinese, and the
    masked text and the filing form remain."""
    from tests.factories import add_account

    add_account(world.settings, "archivist_np", role="archivist", unit="hz",
                clearance="受限", personal_info=False)
    page = visit("archivist_np").page
    page.goto("/inbox")
    refusal = page.get_by_test_id("pages-refused")
    refusal.wait_for()
    assert "无法显示页面图像" in refusal.inner_text()
    assert "个人信息" in refusal.inner_text()
    assert page.get_by_test_id("sheet").count() == 0
    assert page.get_by_role("button", name="归档并转到下一条").is_visible()
    assert axe_violations(page) == []


def wait_drawn(page, sheet) -> None:  # type: ignore[no-untyped-def]
    """Until the sheet's canvas holds a page's text: dark pixels, which the faint watermark
    over a white page never makes (a Chinese font the PDF does not embed draws nothing
    without pdf.js's character maps)."""
    page.wait_for_function("""c => {
        if (!c || !c.width || !c.height) return false
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        for (let i = 0; i < data.length; i += 4)
            if (data[i] < 100 && data[i + 1] < 100 && data[i + 2] < 100) return true
        return false
    }""", arg=sheet.locator("canvas").element_handle(), timeout=15_000)
