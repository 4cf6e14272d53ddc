"""Every endpoint but the token and health endpoints refuses a request without a valid token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from archive.services.logins import REFUSED
from tests.factories import PASSWORD, login

PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/session"),
          ("GET", "/api/v1/healthz"), ("GET", "/api/v1/readyz"),
          # the Prometheus scrape: its own token, no user's (tests/api/test_metrics.py)
          ("GET", "/api/v1/metrics")}


def api_routes(app) -> list[tuple[str, str]]:
    """Every operation the app serves, as its OpenAPI document lists them."""
    return [(method.upper(), path) for path, operations in app.openapi()["paths"].items()
            for method in operations]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def test_every_route_but_public_ones_needs_a_token(client) -> None:
    routes = api_routes(client.app)
    assert len(routes) >= 12  # the walk must see the real app, not an empty one
    expired = jwt.encode({"sub": "1", "exp": datetime.now(UTC) - timedelta(minutes=1)},
                         client.app.state.settings.auth.secret_key.get_secret_value())
    forged = jwt.encode({"sub": "1", "exp": datetime.now(UTC) + timedelta(minutes=5)},
                        "not-the-server-key-but-long-enough-for-hs256")
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer garbage"},
                        {"Authorization": f"Bearer {expired}"},
                        {"Authorization": f"Bearer {forged}"}):
            response = client.request(method, concrete(path), headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"] == "not_authenticated"
        if method == "GET":  # a session cookie is checked as a bearer token is
            for token in ("garbage", expired, forged):
                client.cookies.set("archive_session", token)
                response = client.get(concrete(path))
                client.cookies.clear()
                assert response.status_code == 401, (path, token, response.text)


def test_public_routes(client) -> None:
    assert client.get("/api/v1/healthz").status_code == 200
    assert client.get("/api/v1/readyz").json()["status"] == "ready"
    bad = client.post("/api/v1/auth/token", data={"username": "clerk", "password": "wrong"})
    assert bad.status_code == 401
    assert bad.json() == {"error": "not_authenticated", "detail": REFUSED}
    ok = client.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD})
    assert ok.json()["token_type"] == "bearer"


def test_role_without_the_action_is_refused(client) -> None:
    auditor = login(client, "auditor")
    response = client.post("/api/v1/customers", headers=auditor, json={
        "account": "3300000001", "name": "x", "customer_class": "低压", "unit": "xh"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    me = client.get("/api/v1/auth/me", headers=auditor).json()
    assert me["role_label"] == "审计员"
