"""The API's own documentation works on an intranet: served with no network beyond
loopback, /docs and /redoc render in headless Chromium from the service's own assets."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.factories import bootstrap, make_settings, served
from tests.services import chromium


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    with make_settings("embedded", tmp_path_factory.mktemp("docs")) as settings:
        bootstrap(settings)
        with served(settings) as port:
            yield port


def _rendered(url: str, tmp_path) -> str:
    """The page's DOM after its scripts ran, in a Chromium that reaches nothing but
    loopback: every other host goes to a proxy that is not there."""
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}",
         "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_swagger_ui_renders_without_a_cdn(port, tmp_path) -> None:
    dom = _rendered(f"http://127.0.0.1:{port}/docs", tmp_path)
    assert "cdn." not in dom
    assert 'class="swagger-ui' in dom and "opblock" in dom, dom[:2000]
    assert "/api/v1/auth/token" in dom and "客户档案管理系统" in dom


def test_redoc_renders_without_a_cdn(port, tmp_path) -> None:
    dom = _rendered(f"http://127.0.0.1:{port}/redoc", tmp_path)
    assert "cdn." not in dom and "fonts.googleapis" not in dom
    assert "/api/v1/auth/token" in dom and "客户档案管理系统" in dom, dom[:2000]
