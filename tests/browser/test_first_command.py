"""The README's first command, run as a newcomer runs it: on a fresh clone of this
repository with an empty data folder and no server configured, ``scripts/serve.sh`` makes
its virtualenv, builds the web application and serves it; a user added with the CLI then
signs in through the login page in a real Chromium and opens the search screen."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.factories import free_port, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.ocr]

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PASSWORD = "Qiushui-Changting-2026!"


def _first_command() -> str:
    """The README's first command, as its first code block gives it."""
    block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S)
    assert block, "the README lost its two commands"
    return block.group(1).splitlines()[0].split("#")[0].strip()


def _newcomer_env(port: int) -> dict[str, str]:
    """This shell's environment without the project's settings or its virtualenv: the
    embedded defaults, as on a machine where nothing was configured."""
    venv = str(Path(os.environ.get("VIRTUAL_ENV") or REPO / ".venv") / "bin")
    path = ":".join(p for p in os.environ["PATH"].split(":") if p != venv)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ARCHIVE_", "VIRTUAL_ENV", "PYTHON"))}
    return {**env, "PATH": path, "PORT": str(port), "HOST": "127.0.0.1"}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: there is nothing to clone")
    clone = tmp_path_factory.mktemp("newcomer") / "archive"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    port = free_port()
    env = _newcomer_env(port)
    log = (clone.parent / "serve.log").open("w")
    server = subprocess.Popen(["bash", "-c", _first_command()], cwd=clone, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert server.poll() is None, (clone.parent / "serve.log").read_text()[-3000:]
        try:
            return httpx.get(f"{base}/api/v1/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:  # a new virtualenv, npm ci and the build: minutes on a cold cache
        wait_until(ready, 900, "scripts/serve.sh to set up and serve")
        yield clone, base, env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        log.close()


def test_the_first_command_builds_and_serves_the_web_application(fresh, browser, shots) -> None:
    clone, base, env = fresh
    assert (clone / "web" / "dist" / "index.html").is_file()
    assert (clone / "var").is_dir()  # the embedded data folder, made by the command
    index = httpx.get(f"{base}/login")  # a client route: the application's index
    assert index.status_code == 200 and '<div id="app"' in index.text
    assert "script-src 'self'" in index.headers["content-security-policy"]
    added = subprocess.run(
        [str(clone / ".venv" / "bin" / "archive"), "users", "add", "xinshou", "--role",
         "staff", "--unit", "root"], cwd=clone, env=env, input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True, text=True)
    assert added.returncode == 0, added.stdout + added.stderr

    context = browser.new_context(base_url=base, locale="zh-CN",
                                  viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("用户名").fill("xinshou")
        page.get_by_label("密码").fill(PASSWORD)
        page.screenshot(path=shots / "00-first-command-login.png")
        page.get_by_role("button", name="登录").click()
        page.get_by_test_id("who").wait_for()
        page.get_by_role("navigation").get_by_role("link", name="档案检索").click()
        page.get_by_role("searchbox", name="搜索").wait_for()
    finally:
        context.close()
