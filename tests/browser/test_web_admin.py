"""Journeys of the accounts and of failures in the browser: the system admin opens an
account and resets its password, and its holder must choose a new one before anything else;
a scan that cannot be read shows its reason in 任务监控 and is queued again with 重试."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from tests.browser.conftest import axe_violations
from tests.factories import wait_until

pytestmark = pytest.mark.browser

FIRST = "Qiantang-Chaoshui-2026"
CHOSEN = "Baidi-Sudi-Liulang-2026"


def _damaged_tiff() -> bytes:
    """A two-page TIFF whose first page and page count read (so the upload accepts it) and
    whose second page does not: its compressed strip overwritten, as a broken transfer
    from a scanner leaves it."""
    import io

    from PIL import Image

    pages = [Image.new("RGB", (400, 300), "white") for _ in range(2)]
    written = io.BytesIO()
    pages[0].save(written, format="TIFF", compression="tiff_deflate", dpi=(300, 300),
                  save_all=True, append_images=pages[1:])
    data = bytearray(written.getvalue())
    with Image.open(io.BytesIO(bytes(data))) as image:
        image.seek(1)
        start, size = image.tag_v2[273][0], image.tag_v2[279][0]  # StripOffsets, ByteCounts
    data[start:start + size] = b"\xff" * size
    return bytes(data)


def _row(page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("tr.el-table__row").filter(has_text=text).first


def test_a_reset_password_must_be_changed_before_anything_else(visit, world) -> None:
    admin = visit("sysadmin").page
    admin.goto("/accounts")
    admin.get_by_label("用户名", exact=True).first.fill("wangwu")
    admin.get_by_label("初始密码").fill(FIRST)
    admin.get_by_role("button", name="新建账户").click()
    admin.get_by_text("账户 wangwu 已创建").wait_for()
    httpx.put(f"{world.base}/api/v1/accounts/wangwu/grants", headers=world.token("secadmin"),
              json={"role": "staff", "unit": "xh"}).raise_for_status()
    _row(admin, "wangwu").get_by_role("button", name="重置密码").click()
    admin.get_by_role("dialog").get_by_role("button", name="确定").click()
    temporary = admin.get_by_test_id("temporary-password")
    temporary.wait_for()
    password = temporary.inner_text().strip()
    assert len(password) >= 12
    assert axe_violations(admin) == []

    page = visit(None).page
    page.goto("/login")
    page.get_by_label("用户名").fill("wangwu")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/password")
    page.get_by_text("您的密码已被重置").wait_for()
    page.goto("/search")  # nothing else opens before the change
    page.wait_for_url("**/password")
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码", exact=True).fill(CHOSEN)
    page.get_by_label("再次输入新密码").fill(CHOSEN)
    page.get_by_role("button", name="保存").click()
    page.get_by_test_id("who").wait_for()
    page.goto("/search")
    page.get_by_role("searchbox", name="搜索").wait_for()
    # the temporary password is spent, the chosen one signs in
    assert httpx.post(f"{world.base}/api/v1/auth/token", data={
        "username": "wangwu", "password": password}).status_code == 401
    assert httpx.post(f"{world.base}/api/v1/auth/token", data={
        "username": "wangwu", "password": CHOSEN}).status_code == 200


def test_a_failed_job_shows_its_reason_and_is_queued_again(visit, world) -> None:
    archivist = world.token("archivist")
    accepted = httpx.post(f"{world.base}/api/v1/records", headers=archivist, files={
        "file": ("damaged.tif", _damaged_tiff(), "image/tiff")}, data={
        "dossier_id": world.ids["dossier"], "doc_type": "供用电合同", "title": "损坏的扫描件",
        "doc_date": "2023-06-01", "security_level": "内部"})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()["job_id"]

    def state() -> dict:
        return httpx.get(f"{world.base}/api/v1/jobs/{job}", headers=archivist).json()

    wait_until(lambda: state()["status"] == "failed", 120, "the damaged scan to fail")
    reason = state()["error"]
    assert "page 2 cannot be read" in reason

    page = visit("archivist").page
    page.goto("/jobs")
    row = _row(page, reason[:30])
    row.wait_for()
    assert "失败" in row.inner_text()
    assert axe_violations(page) == []
    row.get_by_role("button", name="重试").click()
    page.get_by_text("已重新排队").wait_for()
    # it ran again, and the same cause failed it again: the reason stays to be read
    wait_until(lambda: state()["status"] == "failed" and state()["attempts"] >= 1, 120,
               "the retried job to run")
    events = httpx.get(f"{world.base}/api/v1/audit/events", headers=world.token("auditor"),
                       params={"action": "job:retry", "object_id": job}).json()["events"]
    assert [e["actor"] for e in events] == ["archivist"]
