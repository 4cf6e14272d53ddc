"""Policy edits: security admin only, guarded by the separation of duties (三员分立) over
the whole policy on every addition and removal, and seen by every process at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from archive.app import create_app
from policies import Action, Role
from policies.separation import (
    DUTIES_OF_ACTION,
    DUTY_OF_ACTION,
    REQUIRED,
    SHARED,
    Duty,
    violations,
)
from tests.factories import login

# every action, and the wildcard of every resource
PATTERNS = sorted({a.value for a in Action} | {f"{a.value.split(':')[0]}:*" for a in Action
                                               if ":" in a.value})


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def test_every_action_belongs_to_exactly_one_duty_but_the_account_directory() -> None:
    assert set(DUTIES_OF_ACTION) == set(Action), "actions without a duty"
    assert set(DUTY_OF_ACTION) == set(Action) - set(SHARED), "a shared action has one duty"
    duties = {duty: [a for a, d in DUTY_OF_ACTION.items() if d is duty] for duty in Duty}
    assert sum(len(actions) for actions in duties.values()) == len(Action) - len(SHARED)
    assert duties[Duty.AUDIT] == [Action.AUDIT_READ]
    # the one shared action reads the account directory, for the two administrators only
    assert {Action.ACCOUNT_READ: {Duty.SYSTEM, Duty.SECURITY}} == SHARED


def test_only_the_security_admin_edits_policy(client) -> None:
    for user in ("archivist", "auditor", "sysadmin", "clerk"):
        headers = login(client, user)
        assert client.get("/api/v1/policies", headers=headers).status_code == 403
        assert client.post("/api/v1/policies", json={"role": user, "action": "search"},
                           headers=headers).status_code == 403
    rules = client.get("/api/v1/policies", headers=login(client, "secadmin")).json()
    assert {"role": "staff", "action": "search"} in rules


def _rules(client, headers) -> list[tuple[str, str]]:
    response = client.get("/api/v1/policies", headers=headers)
    assert response.status_code == 200
    return [(rule["role"], rule["action"]) for rule in response.json()]


def _refused(response, invariants: set[str]) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "separation_of_duties", body
    assert body["invariant"] in invariants, body
    assert body["invariant"] in body["detail"]


def test_every_addition_and_removal_keeps_the_invariants(client) -> None:
    """GIVEN the shipped policy WHEN the security admin adds every action and wildcard to
    every role, and removes every rule, one edit at a time THEN the invariants hold after
    each accepted edit, and each refused one answers 409 naming the invariant."""
    secadmin = login(client, "secadmin")
    accepted = refused = 0
    for role in Role:
        for pattern in PATTERNS:
            before = _rules(client, secadmin)
            if (role.value, pattern) in before:
                continue
            added = client.post("/api/v1/policies", json={"role": role, "action": pattern},
                                headers=secadmin)
            if added.status_code == 201:
                accepted += 1
                after = _rules(client, secadmin)
                assert violations(after) == [], (role, pattern)
                removed = client.delete("/api/v1/policies", headers=secadmin,
                                        params={"role": role.value, "action": pattern})
                assert removed.status_code == 204, removed.text
            else:
                refused += 1
                _refused(added, {"duty"})
                assert _rules(client, secadmin) == before
    for role, pattern in _rules(client, secadmin):
        removed = client.delete("/api/v1/policies", headers=secadmin,
                                params={"role": role, "action": pattern})
        if removed.status_code == 204:
            accepted += 1
            assert violations(_rules(client, secadmin)) == [], (role, pattern)
            assert client.post("/api/v1/policies", json={"role": role, "action": pattern},
                               headers=secadmin).status_code == 201
        else:
            refused += 1
            _refused(removed, {"required"})
            assert any(r == role and p == pattern for r, p in
                       ((r.value, a.value) for r, a in REQUIRED)) or pattern.endswith("*")
    assert accepted > 40 and refused > 100
    # the examples an attacker tried
    for role, action in (("staff", "policy:edit"), ("archivist", "role:assign"),
                         ("auditor", "record:create"), ("auditor", "retention:edit"),
                         ("security_admin", "audit:read"), ("system_admin", "record:*"),
                         ("staff", "audit:*"), ("archivist", "personal:read"),
                         # the shared directory is the two administrators' alone, and the
                         # security admin holds nothing else of the accounts
                         ("auditor", "account:read"), ("staff", "account:read"),
                         ("security_admin", "account:*")):
        response = client.post("/api/v1/policies", json={"role": role, "action": action},
                               headers=secadmin)
        if (role, action) == ("archivist", "personal:read"):
            assert response.status_code == 409 and response.json()["error"] == "conflict"
        else:
            _refused(response, {"duty"})
    for role, action in (("auditor", "audit:read"), ("security_admin", "policy:edit"),
                         ("security_admin", "role:assign")):
        _refused(client.delete("/api/v1/policies", params={"role": role, "action": action},
                               headers=secadmin), {"required"})


def test_unknown_roles_and_actions_are_refused(client) -> None:
    secadmin = login(client, "secadmin")
    for body in ({"role": "root", "action": "search"}, {"role": "staff", "action": "*"},
                 {"role": "staff", "action": "nuclear:launch"},
                 {"role": "staff", "action": "record:<script>"}):
        assert client.post("/api/v1/policies", json=body, headers=secadmin).status_code == 422


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
