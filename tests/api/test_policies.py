"""Policy edits: security admin only, guarded by the separation of duties, seen at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from tests.factories import login


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def test_only_the_security_admin_edits_policy(client) -> None:
    for user in ("archivist", "auditor", "sysadmin", "clerk"):
        headers = login(client, user)
        assert client.get("/api/v1/policies", headers=headers).status_code == 403
        assert client.post("/api/v1/policies", json={"role": user, "action": "search"},
                           headers=headers).status_code == 403
    rules = client.get("/api/v1/policies", headers=login(client, "secadmin")).json()
    assert {"role": "staff", "action": "search"} in rules


@pytest.mark.parametrize(("role", "action"), [
    ("auditor", "record:content"), ("auditor", "search"), ("security_admin", "record:read"),
    ("security_admin", "audit:read"), ("system_admin", "role:assign"),
    ("staff", "audit:read"),  # staff read content, so they may not read the audit log
])
def test_edits_that_break_separation_of_duties_are_refused(client, role, action) -> None:
    response = client.post("/api/v1/policies", json={"role": role, "action": action},
                           headers=login(client, "secadmin"))
    assert response.status_code == 409, response.text
    assert "separation of duties" in response.json()["detail"]


def test_a_change_is_seen_by_every_process_at_once(client, settings) -> None:
    """GIVEN two app processes on one database WHEN the security admin revokes a rule in
    one THEN the other refuses the action on the very next request."""
    secadmin = login(client, "secadmin")
    with TestClient(create_app(settings)) as other:
        clerk = login(other, "clerk")
        assert other.get("/api/v1/search", headers=clerk).status_code == 200
        removed = client.delete("/api/v1/policies", params={"role": "staff", "action": "search"},
                                headers=secadmin)
        assert removed.status_code == 204
        assert other.get("/api/v1/search", headers=clerk).status_code == 403
        added = client.post("/api/v1/policies", json={"role": "staff", "action": "search"},
                            headers=secadmin)
        assert added.status_code == 201
        assert other.get("/api/v1/search", headers=clerk).status_code == 200
    events = client.get("/api/v1/audit/events", params={"limit": 1000},
                        headers=login(client, "auditor")).json()["events"]
    assert [e["action"] for e in events if e["action"] in ("policy:add", "policy:remove")] == [
        "policy:remove", "policy:add"]
