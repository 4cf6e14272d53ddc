"""The archivist's, the auditor's and the security admin's journeys in the browser, on the
loan a clerk asked for: the archivist approves it and the clerk then reads the record; the
auditor finds it in the log, exports CSV and verifies the chain; a security admin's policy
edit that would break 三员分立 is refused with its reason on the page."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loan(world) -> str:
    """A clerk's request to read the restricted record, made through the API."""
    answer = httpx.post(f"{world.base}/api/v1/borrow-requests", headers=world.token("clerk"),
                        json={"record_id": world.ids["restricted"], "purpose": "核对窃电处理",
                              "days": 7, "kind": "electronic", "purpose_kind": "业务办理"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_the_archivist_approves_the_loan_and_the_clerk_then_reads(visit, world, loan,
                                                                  shots) -> None:
    page = visit("archivist").page
    page.goto("/loans")
    row = page.get_by_test_id("loan-row").filter(has_text="核对窃电处理").first
    row.get_by_role("button", name="批准").click()
    dialog = page.get_by_role("dialog")
    if dialog.count():
        dialog.get_by_role("button", name="确定").last.click()
    page.wait_for_function(
        "() => !document.body.innerText.includes('核对窃电处理') || "
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
