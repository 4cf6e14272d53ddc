"""The web application in a real Chromium (Debian's, driven by Playwright) against a real
server on loopback, seeded through the public API. Every page request is watched: nothing
may leave 127.0.0.1. Screenshots go under the test run's output
(``$ARCHIVE_TEST_OUTPUT`` or pytest's temporary folder), never into the repository."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx  # the HTTP client the test kit uses (TestClient too)
import pytest

from archive.settings import Settings
from tests import documents
from tests.factories import PASSWORD, bootstrap, make_settings, served, wait_until
from tests.services import chromium

WEB = Path(__file__).resolve().parents[2] / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"


def _require_build() -> None:
    if not (WEB / "dist" / "index.html").is_file() or not AXE.is_file():
        message = "the web application is not built: run scripts/build-web.sh"
        if os.environ.get("ARCHIVE_TEST_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class World:
    """The seeded archive: its address, and the objects the journeys use."""

    base: str
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> dict[str, str]:
        answer = httpx.post(f"{self.base}/api/v1/auth/token",
                            data={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _seed(world: World) -> None:
    archivist = world.token("archivist")
    with httpx.Client(base_url=world.base, headers=archivist, timeout=60) as api:
        api.post("/api/v1/customers", json={
            "account": "3301000001", "name": "杭州明达纺织有限公司", "customer_class": "高压",
            "voltage": "10kV", "address": "浙江省杭州市西湖区文三路88号",
            "phone": "13800001234", "id_number": "330106199001013456",
            "unit": "xh"}).raise_for_status()
        dossier = api.post("/api/v1/dossiers", json={
            "customer_account": "3301000001", "category": "业扩报装"}).json()
        world.ids["dossier"] = dossier["id"]
        world.ids["archive_number"] = dossier["archive_number"]
        files = {
            "contract": (["高压供用电合同 第一页 供电方与用电方",
                          "第二页 专用变压器 容量 800千伏安 计量装置 安装于 配电室"],
                         "内部", "高压供用电合同"),
            "restricted": (["用电检查记录 第一页", "违章用电 窃电处理 追补电费 受限材料"],
                           "受限", "违章用电及窃电处理记录"),
        }
        for key, (pages, level, title) in files.items():
            answer = api.post("/api/v1/records", files={
                "file": (f"{key}.pdf", documents.text_pdf(pages), "application/pdf")}, data={
                "dossier_id": dossier["id"], "doc_type": "供用电合同", "title": title,
                "doc_date": "2023-05-04", "security_level": level})
            answer.raise_for_status()
            world.ids[key] = answer.json()["record_id"]
            job = answer.json()["job_id"]
            done = wait_until(lambda job=job: api.get(f"/api/v1/jobs/{job}").json()["status"]
                              in ("done", "failed"), 120, f"job {job}")
            assert done and api.get(f"/api/v1/jobs/{job}").json()["status"] == "done"


def _seed_inbox(world: World, folder: Path) -> None:
    """A scan for a customer the archive does not know yet, and a two-page memo with no 户号
    after it, imported: both wait in 待归档."""
    import io

    from rich.console import Console

    from archive.backends import Backends
    from archive.commands.batch import import_directory

    folder.mkdir()
    (folder / "unknown.pdf").write_bytes(documents.text_pdf(
        ["低压非居民用电申请书 户号：3309999999 户名：杭州新客户商贸有限公司 "
         "申请日期：2024年3月5日"]))
    (folder / "waiting-memo.pdf").write_bytes(documents.text_pdf(
        ["会议纪要 配电房改造", "第二页 改造工期 联系电话 13900002222"]))
    with Backends.open(world.settings) as backends:
        import_directory(backends, directory=folder, username="archivist", manifest=None,
                         console=Console(file=io.StringIO()))


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Iterator[World]:
    _require_build()
    with make_settings("embedded", tmp_path_factory.mktemp("web")) as settings:
        bootstrap(settings)
        with served(settings) as port:
            world = World(base=f"http://127.0.0.1:{port}", settings=settings)
            _seed(world)
            _seed_inbox(world, tmp_path_factory.mktemp("scans") / "inbox")
            yield world


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    out = Path(os.environ.get("ARCHIVE_TEST_OUTPUT") or tmp_path_factory.mktemp("out"))
    folder = out / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=_binary(), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


def _binary() -> str:
    # Debian's /usr/bin/chromium is a shell wrapper; Playwright drives the binary itself
    real = Path("/usr/lib/chromium/chromium")
    return str(real) if real.is_file() else chromium()


@dataclass
class Visit:
    """One user's browser: its page, and every request it made, for the checks that
    nothing left loopback and that the API was asked."""

    page: object
    requests: list[str]
    problems: list[str]


@pytest.fixture
def visit(browser, world: World) -> Iterator:
    contexts, visits = [], []

    def open_as(username: str | None) -> Visit:
        context = browser.new_context(base_url=world.base, locale="zh-CN",
                                      viewport={"width": 1400, "height": 900},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page=page, requests=[], problems=[])
        visits.append(seen)
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("console", lambda message: seen.problems.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: seen.problems.append(str(error)))
        if username:
            sign_in(page, username)
        return seen

    yield open_as
    for context in contexts:
        context.close()
    for seen in visits:  # nothing but this server: no CDN, no font host, no telemetry
        outside = [url for url in seen.requests if not url.startswith(("data:", "blob:"))
                   and urlsplit(url).hostname != "127.0.0.1"]
        assert not outside, outside
        refused = [text for text in seen.problems if "Content Security Policy" in text]
        assert not refused, refused


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("who").wait_for()


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical violations on the page as it stands, once its
    transitions have ended (a toast fading in has, for a moment, too little contrast)."""
    page.wait_for_function("""() => document.getAnimations().every(
        a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)""",
        timeout=10_000)
    # evaluated through the devtools protocol: the page's CSP forbids an inline script
    page.evaluate(AXE.read_text())
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    return found
