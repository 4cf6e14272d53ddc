"""The web application's session: an HttpOnly, SameSite=Strict cookie no script reads, a
CSRF token on every request that changes anything, the caller's capabilities for the
navigation, and the built application served at / with its strict policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from tests.factories import PASSWORD, login, make_settings

pytestmark = pytest.mark.parametrize("backend_set", ["embedded"], indirect=True)

API = "/api/v1"


def open_session(client: TestClient, username: str) -> str:
    response = client.post(f"{API}/auth/session",
                           json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert "access_token" not in response.json()
    return response.json()["csrf_token"]


def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_api(client: TestClient) -> None:
    response = client.post(f"{API}/auth/session",
                           json={"username": "clerk", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("archive_session=")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/api/"):
        assert flag.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain HTTP here; see the TLS test
    me = client.get(f"{API}/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "clerk"
    assert me.json()["csrf_token"] == response.json()["csrf_token"]


def test_a_wrong_password_sets_no_cookie(client: TestClient) -> None:
    response = client.post(f"{API}/auth/session", json={"username": "clerk", "password": "x"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert client.get(f"{API}/auth/me").status_code == 401


def test_a_change_by_cookie_needs_its_csrf_token(client: TestClient) -> None:
    csrf = open_session(client, "archivist")
    body = {"account": "3300000001", "name": "杭州测试", "customer_class": "低压",
            "voltage": "0.4kV", "address": "杭州", "phone": "13800001234",
            "id_number": "330106199001013456", "unit": "xh"}
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1]}):
        refused = client.post(f"{API}/customers", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "csrf_failed"
    assert client.get(f"{API}/customers/3300000001").status_code == 404  # nothing written
    # each refusal is audited on the cookie holder's behalf: a forgery attempt shows
    denied = client.get(f"{API}/audit/events", headers=login(client, "auditor"), params={
        "actor": "archivist", "decision": "deny", "limit": 100}).json()["events"]
    assert [e["reason"] for e in denied if e["action"] == "POST /customers"] == [
        "the CSRF token is missing or wrong; reload the page"] * 3
    made = client.post(f"{API}/customers", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    assert client.get(f"{API}/customers/3300000001").status_code == 200  # reads need none


def test_bearer_callers_need_no_csrf_token(client: TestClient) -> None:
    headers = login(client, "archivist")
    client.cookies.clear()
    body = {"account": "3300000002", "name": "杭州测试", "customer_class": "低压",
            "voltage": "0.4kV", "address": "杭州", "phone": "13800001234",
            "id_number": "330106199001013456", "unit": "xh"}
    assert client.post(f"{API}/customers", json=body, headers=headers).status_code == 201


def test_the_csrf_token_of_one_session_does_not_open_another(settings) -> None:
    app = create_app(settings)
    with TestClient(app) as first, TestClient(app) as second:
        csrf_first = open_session(first, "archivist")
        open_session(second, "archivist")
        answer = second.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf_first})
        assert answer.status_code == 403


def test_logout_drops_the_cookie_and_revokes_the_session(client: TestClient) -> None:
    csrf = open_session(client, "clerk")
    token = client.cookies.get("archive_session")
    response = client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert 'archive_session=""' in response.headers["set-cookie"] or \
        "Max-Age=0" in response.headers["set-cookie"]
    client.cookies.set("archive_session", token, path="/api/")
    assert client.get(f"{API}/auth/me").status_code == 401


def test_a_password_change_by_cookie_renews_the_cookie_not_a_readable_token(
        client: TestClient) -> None:
    csrf = open_session(client, "clerk")
    old = client.cookies.get("archive_session")
    changed = client.post(f"{API}/auth/password", headers={"X-CSRF-Token": csrf},
                          json={"current_password": PASSWORD,
                                "new_password": "Lantern-orchard-9-quietly"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["access_token"] is None
    assert changed.json()["csrf_token"] and changed.json()["csrf_token"] != csrf
    assert client.cookies.get("archive_session") != old
    assert client.get(f"{API}/auth/me").json()["csrf_token"] == changed.json()["csrf_token"]


def test_the_cookie_is_secure_over_tls(settings) -> None:
    with TestClient(create_app(settings), base_url="https://archive.example") as client:
        response = client.post(f"{API}/auth/session",
                               json={"username": "clerk", "password": PASSWORD})
        assert "secure" in response.headers["set-cookie"].lower()


def test_me_names_the_actions_and_units_of_the_caller(client: TestClient) -> None:
    clerk = client.get(f"{API}/auth/me", headers=login(client, "clerk")).json()
    assert "search" in clerk["actions"] and "borrow:request" in clerk["actions"]
    assert "audit:read" not in clerk["actions"] and "record:create" not in clerk["actions"]
    assert clerk["units"] == [{"role": "staff", "role_label": clerk["role_label"],
                               "code": "xh", "name": "西湖供电所"}]
    assert clerk["csrf_token"] is None  # a bearer caller has no web session
    auditor = client.get(f"{API}/auth/me", headers=login(client, "auditor")).json()
    assert "audit:read" in auditor["actions"] and "search" not in auditor["actions"]
    archivist = client.get(f"{API}/auth/me", headers=login(client, "archivist")).json()
    assert {"record:create", "borrow:decide", "disposition:propose"} <= set(
        archivist["actions"])


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><div id="app"></div>'
                                     '<script type="module" src="/assets/app-1a2b.js"></script>')
    (dist / "assets" / "app-1a2b.js").write_text("console.log('archive')")
    (dist / "favicon.svg").write_text("<svg/>")
    return dist


@pytest.fixture
def web_client(backend_set: str, tmp_path: Path):
    from tests.factories import bootstrap

    with make_settings(backend_set, tmp_path, web_dir=built(tmp_path)) as settings:
        bootstrap(settings)
        with TestClient(create_app(settings)) as client:
            yield client


def test_the_app_is_served_at_every_client_route(web_client: TestClient) -> None:
    for path in ("/", "/search", "/records/42", "/audit/events?actor=x"):
        page = web_client.get(path)
        assert page.status_code == 200, path
        assert '<div id="app">' in page.text
        assert page.headers["cache-control"] == "no-cache"
    asset = web_client.get("/assets/app-1a2b.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert web_client.get("/favicon.svg").text == "<svg/>"
    assert web_client.get("/assets/missing.js").status_code == 404


def test_the_api_and_files_outside_the_build_never_fall_back_to_the_app(
        web_client: TestClient) -> None:
    for path in ("/api/v1/no-such-route", "/api/v2/search", "/api/"):
        answer = web_client.get(path)
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    for path in ("/../pyproject.toml", "/%2e%2e/pyproject.toml", "/assets/../../index.html"):
        answer = web_client.get(path)
        assert "[project]" not in answer.text


def test_the_app_has_a_strict_content_security_policy(web_client: TestClient) -> None:
    policy = web_client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert web_client.get("/").headers["x-frame-options"] == "DENY"


def test_without_a_build_the_root_says_how_to_build_it(settings) -> None:
    settings.web_dir = Path("/nonexistent/dist")
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
        assert page.status_code == 503 and "scripts/serve.sh" in page.text
