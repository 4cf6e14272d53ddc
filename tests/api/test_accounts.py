"""Accounts: throttled logins, password change and reset, revocation, and the separation
of the three administrators (三员分立)."""

from __future__ import annotations

import pytest

from tests import documents
from tests.factories import PASSWORD, create_customer, create_dossier, login, upload, wait_for_job


@pytest.fixture(params=["embedded"])
def backend_set(request: pytest.FixtureRequest) -> str:
    return request.param


def token(client, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def audited(client, **filters) -> list[dict]:
    response = client.get("/api/v1/audit/events", params={"limit": 1000, **filters},
                          headers=login(client, "auditor"))
    return response.json()["events"]


def test_failed_logins_slow_the_guesser_not_the_owner(client) -> None:
    throttle = client.app.state.login_throttle
    now = [1000.0]
    throttle.clock = lambda: now[0]
    for _ in range(3):
        assert token(client, "clerk", "wrong-password-1").status_code == 401
    # the fourth attempt comes too soon: refused unchecked, the right password too, with the
    # same answer as a wrong one, and as an unknown account
    too_soon = token(client, "clerk", PASSWORD)
    assert too_soon.status_code == 401
    wrong = token(client, "clerk", "wrong-password-1").json()
    unknown = token(client, "nobody-here", "wrong-password-1").json()
    assert too_soon.json() == wrong == unknown
    now[0] += 1.5  # the first delay has passed: the owner gets in, and nothing was locked
    assert token(client, "clerk", PASSWORD).status_code == 200
    assert token(client, "clerk_gs", PASSWORD).status_code == 200  # others never slowed
    assert throttle.wait("clerk", "testclient") == 0.0  # a success forgets the failures
    # each further failure doubles the delay
    for expected in (0, 0, 1, 2, 4, 8):
        assert throttle.wait("clerk", "testclient") == 0.0
        token(client, "clerk", "wrong-password-1")
        assert throttle.wait("clerk", "testclient") == pytest.approx(expected, abs=0.01)
        now[0] += expected
    # the guesser's burst of refusals is audited once; every checked failure is
    denied = audited(client, action="login", actor="clerk", decision="deny")
    assert [e["reason"] for e in denied].count("too many failed attempts") == 1
    assert len([e for e in denied if e["reason"] == "wrong username or password"]) == 9
    assert audited(client, action="account:lock") == []


def test_a_stranger_elsewhere_never_delays_the_owner() -> None:
    from archive.services.logins import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(50):
        throttle.failed("clerk", "10.9.9.9")
    assert throttle.wait("clerk", "10.9.9.9") > 60
    assert throttle.wait("clerk", "10.1.1.1") == 0.0  # the owner's own address
    # one address guessing many accounts is slowed as a whole after 50 failures, gently
    # (an office behind one NAT shares it): never for more than 10 s
    for n in range(5000):
        throttle.failed(f"user{n}", "10.8.8.8")
    assert 0 < throttle.wait("someone-else", "10.8.8.8") <= 10.0
    now[0] += 10.0
    assert throttle.wait("someone-else", "10.8.8.8") == 0.0


LONG = "Harbour-violet-93 lantern quarry 47; marble otter kiln 58 / saffron tidal 12 & moss 9"


def test_passwords_are_changed_by_their_owner_and_reset_by_the_system_admin(client) -> None:
    clerk = login(client, "clerk")
    change = {"current_password": PASSWORD, "new_password": "aaaaaaaaa1"}
    weak = client.post("/api/v1/auth/password", headers=clerk, json=change)
    assert weak.status_code == 422 and "guess" in weak.json()["detail"]
    for refused in ("c-l-e-r-k-2026-Quokka", "ＣＬＥＲＫ-harbour-77", PASSWORD):
        answer = client.post("/api/v1/auth/password", headers=clerk,
                             json={**change, "new_password": refused})
        assert answer.status_code == 422, refused
    long = client.post("/api/v1/auth/password", headers=clerk,
                       json={**change, "new_password": LONG})
    assert long.status_code == 200, long.text  # judged by its start, not a 500
    clerk = {"Authorization": f"Bearer {long.json()['access_token']}"}
    change = {"current_password": LONG, "new_password": "aaaaaaaaa1"}
    wrong = client.post("/api/v1/auth/password", headers=clerk,
                        json={**change, "current_password": "not-my-password"})
    assert wrong.status_code == 401
    changed = client.post("/api/v1/auth/password", headers=clerk,
                          json={**change, "new_password": "lantern-quarry-47"})
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/auth/me", headers=clerk).status_code == 401  # sessions end
    assert token(client, "clerk", LONG).status_code == 401
    assert token(client, "clerk", "lantern-quarry-47").status_code == 200

    sysadmin = login(client, "sysadmin")
    reset = client.post("/api/v1/accounts/clerk/password-reset", headers=sysadmin)
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert token(client, "clerk", "lantern-quarry-47").status_code == 401
    signed_in = token(client, "clerk", temporary).json()
    assert signed_in["password_change_required"] is True
    headers = {"Authorization": f"Bearer {signed_in['access_token']}"}
    refused = client.get("/api/v1/search", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"] == "password_change_required"
    assert client.get("/api/v1/auth/me", headers=headers).json()["password_change_required"]
    kept = client.post("/api/v1/auth/password", headers=headers, json={
        "current_password": temporary, "new_password": temporary})
    assert kept.status_code == 422  # the temporary one, which the system admin saw
    renewed = client.post("/api/v1/auth/password", headers=headers, json={
        "current_password": temporary, "new_password": "harbour-violet-93"})
    assert renewed.status_code == 200
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/api/v1/search", headers=fresh).status_code == 200
    # a short name never stands in the way of its temporary password
    assert client.post("/api/v1/accounts", headers=sysadmin, json={
        "username": "tm", "password": "lantern-quarry-47"}).status_code == 201
    for _ in range(5):
        assert client.post("/api/v1/accounts/tm/password-reset",
                           headers=sysadmin).status_code == 200
    # the administrators' passwords are reset on the server, not by the system admin
    for admin in ("auditor", "secadmin"):
        refused = client.post(f"/api/v1/accounts/{admin}/password-reset", headers=sysadmin)
        assert refused.status_code == 409
    assert client.post("/api/v1/accounts/clerk/password-reset",
                       headers=login(client, "secadmin")).status_code == 403
    assert [e["action"] for e in audited(client, object_id="clerk")
            if e["action"].startswith("password:")] == [
        "password:change", "password:change", "password:reset", "password:change"]


def test_logout_revokes_the_token(client) -> None:
    headers = login(client, "clerk")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_three_administrators_are_kept_apart(client) -> None:
    sysadmin, secadmin = login(client, "sysadmin"), login(client, "secadmin")
    created = client.post("/api/v1/accounts", headers=sysadmin,
                          json={"username": "wangwu", "password": "new-user-pass-1"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == ""
    newcomer = {"Authorization": "Bearer " + token(client, "wangwu", "new-user-pass-1")
                .json()["access_token"]}
    assert client.get("/api/v1/search", headers=newcomer).status_code == 403

    grant = {"role": "staff", "unit": "xh", "clearance": "内部"}
    # the system admin manages accounts but cannot grant
    assert client.put("/api/v1/accounts/wangwu/grants", json=grant,
                      headers=sysadmin).status_code == 403
    # the security admin grants, but not to themselves, and creates no accounts
    assert client.put("/api/v1/accounts/secadmin/grants", json={**grant, "role": "archivist"},
                      headers=secadmin).status_code == 403
    assert client.post("/api/v1/accounts", headers=secadmin,
                       json={"username": "x1", "password": "new-user-pass-1"}).status_code == 403
    assert client.put("/api/v1/accounts/wangwu/grants", json=grant,
                      headers=secadmin).status_code == 200
    # the grant revoked the newcomer's old token; a fresh one carries the role
    assert client.get("/api/v1/search", headers=newcomer).status_code == 401
    newcomer = {"Authorization": "Bearer " + token(client, "wangwu", "new-user-pass-1")
                .json()["access_token"]}
    assert client.get("/api/v1/search", headers=newcomer).status_code == 200

    # disabling ends every session at once
    assert client.post("/api/v1/accounts/wangwu/disable", headers=sysadmin).status_code == 200
    assert client.get("/api/v1/search", headers=newcomer).status_code == 401
    assert token(client, "wangwu", "new-user-pass-1").status_code == 401
    assert [e["action"] for e in audited(client, object_id="wangwu")
            if e["action"].startswith(("account:", "role:"))] == [
        "account:create", "role:assign", "account:disable"]


def test_administrators_read_no_content_and_no_audit_log(client) -> None:
    archivist = login(client, "archivist")
    create_customer(client, archivist, "3300012345")
    dossier = create_dossier(client, archivist, "3300012345")
    ids = upload(client, archivist, dossier["id"], documents.text_pdf(["供用电合同 第一条"])).json()
    wait_for_job(client, archivist, ids["job_id"])
    for admin in ("secadmin", "sysadmin"):
        headers = login(client, admin)
        for path in (f"/api/v1/records/{ids['record_id']}/content",
                     f"/api/v1/records/{ids['record_id']}/text", "/api/v1/audit/events",
                     "/api/v1/search"):
            assert client.get(path, headers=headers).status_code == 403, (admin, path)


@pytest.mark.parametrize(("password", "message"), [
    ("short-1", "at least 10"), ("onlyletterslong", "two of"), ("wangwu-secret-1", "username"),
])
def test_password_rules(client, password, message) -> None:
    response = client.post("/api/v1/accounts", headers=login(client, "sysadmin"),
                           json={"username": "wangwu", "password": password})
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_a_clerk_can_hold_roles_in_several_stations(client) -> None:
    secadmin, archivist = login(client, "secadmin"), login(client, "archivist")
    create_customer(client, archivist, "3300099999", unit="gs")
    assert client.get("/api/v1/customers/3300099999",
                      headers=login(client, "clerk")).status_code == 404
    granted = client.put("/api/v1/accounts/clerk/grants", headers=secadmin, json={
        "role": "staff", "unit": "xh", "clearance": "内部",
        "also": [{"role": "staff", "unit": "gs"}]})
    assert granted.status_code == 200, granted.text
    assert granted.json()["grants"] == [{"role": "staff", "unit": "xh"},
                                        {"role": "staff", "unit": "gs"}]
    clerk = login(client, "clerk")  # the old token was revoked with the change
    assert client.get("/api/v1/customers/3300099999", headers=clerk).status_code == 200
    assert client.post("/api/v1/customers", headers=clerk, json={
        "account": "3300088888", "name": "李娜", "customer_class": "低压",
        "unit": "gs"}).status_code == 403  # still a clerk there, not an archivist

    narrowed = client.put("/api/v1/accounts/clerk/grants", headers=secadmin, json={
        "role": "staff", "unit": "xh", "clearance": "内部"})
    assert narrowed.json()["grants"] == [{"role": "staff", "unit": "xh"}]
    clerk = login(client, "clerk")
    assert client.get("/api/v1/customers/3300099999", headers=clerk).status_code == 404


@pytest.mark.parametrize("also", [
    [{"role": "auditor", "unit": "root"}],  # an auditor who is also a clerk
    [{"role": "security_admin", "unit": "hz"}],
])
def test_administrative_roles_are_never_combined(client, also) -> None:
    secadmin = login(client, "secadmin")
    refused = client.put("/api/v1/accounts/clerk/grants", headers=secadmin, json={
        "role": "staff", "unit": "xh", "clearance": "内部", "also": also})
    assert refused.status_code == 409
    assert "separation of duties" in refused.json()["detail"]
    me = client.get("/api/v1/auth/me", headers=login(client, "clerk")).json()
    assert me["role"] == "staff"


def test_the_last_holder_of_a_duty_keeps_it(client) -> None:
    """GIVEN one active auditor, security admin and system admin WHEN any of them would be
    disabled or lose the role THEN 409 names the invariant; with a second holder it works."""
    sysadmin, secadmin = login(client, "sysadmin"), login(client, "secadmin")
    for username in ("auditor", "secadmin", "sysadmin"):
        refused = client.post(f"/api/v1/accounts/{username}/disable", headers=sysadmin)
        assert refused.status_code == 409, refused.text
        assert refused.json()["invariant"] == "last_holder"
    refused = client.put("/api/v1/accounts/auditor/grants", headers=secadmin,
                         json={"role": "staff", "unit": "xh", "clearance": "内部"})
    assert (refused.status_code, refused.json()["invariant"]) == (409, "last_holder")
    assert client.get("/api/v1/audit/events", headers=login(client, "auditor")).status_code == 200
    # a second auditor: now the first may go
    assert client.post("/api/v1/accounts", headers=sysadmin, json={
        "username": "shenji2", "password": "auditor-pass-2"}).status_code == 201
    assert client.put("/api/v1/accounts/shenji2/grants", headers=secadmin, json={
        "role": "auditor", "unit": "root", "clearance": "内部"}).status_code == 200
    assert client.post("/api/v1/accounts/auditor/disable", headers=sysadmin).status_code == 200
    refused = client.post("/api/v1/accounts/shenji2/disable", headers=sysadmin)
    assert refused.status_code == 409


def test_an_account_name_differs_from_every_other_in_more_than_case(client) -> None:
    refused = client.post("/api/v1/accounts", headers=login(client, "sysadmin"),
                          json={"username": "Clerk", "password": "lookalike-pass-1"})
    assert refused.status_code == 409 and "too like clerk" in refused.json()["detail"]


@pytest.mark.parametrize("name", ["system", "System", "anonymous", "worker", "cli", "--x"])
def test_reserved_account_names_are_refused(client, name) -> None:
    refused = client.post("/api/v1/accounts", headers=login(client, "sysadmin"),
                          json={"username": name, "password": "reserved-pass-1"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["invariant"] == "reserved_name"


def test_a_typed_name_is_no_actor_of_the_trail(client) -> None:
    """A failed login as a name nobody holds (here the workers' ``system``) is audited
    under the anonymous actor, never as that name."""
    assert token(client, "system", "whatever-pass-1").status_code == 401
    events = audited(client, action="login", decision="deny")
    assert [(e["actor"], e["object_id"]) for e in events] == [("-", "system")]


@pytest.mark.parametrize("name", ["auditor", "archivist", "security_admin", "staff",
                                  "system_admin"])
def test_an_account_named_like_a_role_holds_only_its_grants(client, name) -> None:
    """Casbin takes a subject named like a role for that role in every unit; grants name
    users apart, so an account called ``auditor`` with a clerk's grant is a clerk."""
    sysadmin, secadmin = login(client, "sysadmin"), login(client, "secadmin")
    for username in ("stand-in", name):  # the stand-in keeps the fixture's duty covered
        made = client.post("/api/v1/accounts", headers=sysadmin,
                           json={"username": username, "password": "role-name-pass-1"})
        assert made.status_code in (201, 409), made.text  # 409: a fixture account already
    assert client.put("/api/v1/accounts/stand-in/grants", headers=secadmin, json={
        "role": name if name in ("auditor", "security_admin", "system_admin") else "staff",
        "unit": "root", "clearance": "内部"}).status_code == 200
    password = "role-name-pass-1" if name not in ("auditor", "archivist") else PASSWORD
    assert client.put(f"/api/v1/accounts/{name}/grants", headers=secadmin, json={
        "role": "staff", "unit": "gs", "clearance": "内部"}).status_code == 200
    headers = {"Authorization": "Bearer " + token(client, name, password)
               .json()["access_token"]}
    assert client.get("/api/v1/search", headers=headers).status_code == 200  # a clerk …
    for path in ("/api/v1/audit/events", "/api/v1/policies", "/api/v1/inbox"):
        assert client.get(path, headers=headers).status_code == 403, path  # … only
    assert client.post("/api/v1/accounts", headers=headers, json={
        "username": "x9", "password": "role-name-pass-1"}).status_code == 403
    found = client.get("/api/v1/customers/3300012345", headers=headers)
    assert found.status_code == 404  # nothing of 西湖 (xh) for a clerk of 拱墅
