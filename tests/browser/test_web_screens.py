"""Every screen, opened by a role that may use it, has no serious or critical axe-core
violation, loads nothing from outside this server and breaks no CSP rule (checked by the
``visit`` fixture)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser

SCREENS = [
    ("clerk", "/", "您好"), ("archivist", "/customers", "客户"),
    ("archivist", "/dossiers", "案卷"), ("archivist", "/jobs", "任务"),
    ("archivist", "/loans", "借阅"), ("archivist", "/disposition", "鉴定"),
    ("archivist", "/transfers", "移交"), ("archivist", "/retention", "保管期限"),
    ("auditor", "/audit/stats", "访问统计"), ("sysadmin", "/accounts", "账户"),
    ("secadmin", "/grants", "授权"), ("clerk", "/password", "修改密码"),
]


@pytest.mark.parametrize(("username", "path", "heading"), SCREENS)
def test_every_screen_is_accessible(visit, username: str, path: str, heading: str) -> None:
    page = visit(username).page
    page.goto(path)
    page.get_by_role("heading", level=1).filter(has_text=heading).first.wait_for()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []


def test_the_dossier_screen_is_accessible(visit, world) -> None:
    page = visit("archivist").page
    page.goto(f"/dossiers/{world.ids['dossier']}")
    page.get_by_text(world.ids["archive_number"]).first.wait_for()
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
