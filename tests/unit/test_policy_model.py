"""The Casbin model itself: roles held in units reach their subtree, and nothing else;
clearance, personal information, own requests and borrow grants as attributes of the same
model; the reach of an action as filters agrees with the decisions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from policies import CasbinAuthorizer, Decision, Reach, Subject, Target, borrow_key, grant_subject

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
XH = "/root/hz/xh/"


def authorizer_with(*grants: tuple[str, str, str], now: list[datetime] | None = None
                    ) -> CasbinAuthorizer:
    clock = now or [NOW]
    authorizer = CasbinAuthorizer(clock=lambda: clock[0])  # the shipped policy, from the CSV
    for user, role, unit in grants:
        authorizer._enforcer.add_grouping_policy(grant_subject(user), role, unit)
    return authorizer


def allows(auth: CasbinAuthorizer, user: str, unit: str, action: str) -> bool:
    return auth.decide(Subject(user), unit, Target(), action) is Decision.ALLOW


def test_a_role_in_a_unit_reaches_its_subtree_only() -> None:
    auth = authorizer_with(("zhang", "staff", "/root/hz/xh/"), ("dang", "archivist", "/root/hz/"))
    assert allows(auth, "zhang", "/root/hz/xh/", "record:read")
    assert allows(auth, "zhang", "/root/hz/xh/team/", "record:read")
    assert not allows(auth, "zhang", "/root/hz/", "record:read")  # not upwards
    assert not allows(auth, "zhang", "/root/hz/gs/", "record:read")  # not sideways
    assert not allows(auth, "zhang", "/root/hz/xh/", "record:create")  # not beyond the role
    assert allows(auth, "dang", "/root/hz/gs/", "record:create")  # resource:* grants


def test_several_grants_in_several_units() -> None:
    auth = authorizer_with(("li", "staff", "/root/hz/xh/"), ("li", "archivist", "/root/nb/"))
    li = Subject("li")
    assert allows(auth, "li", "/root/nb/bl/", "record:create")
    assert not allows(auth, "li", "/root/hz/xh/", "record:create")  # only staff there
    assert auth.domains(li, "search") == ("/root/hz/xh/", "/root/nb/")
    assert auth.domains(li, "customer:create") == ("/root/nb/",)
    assert auth.domains(li, "audit:read") == ()


def test_no_grant_no_access() -> None:
    auth = authorizer_with()
    assert not allows(auth, "nobody", "/root/", "search")
    assert auth.domains(Subject("nobody"), "search") == ()
    assert auth.reach(Subject("nobody"), "record:content").empty


def test_content_needs_the_clearance_metadata_does_not() -> None:
    auth = authorizer_with(("zhang", "staff", XH))
    zhang = Subject("zhang", "内部")
    secret = Target(key=borrow_key("d1", "r1"), level="受限")
    assert auth.decide(zhang, XH, secret, "record:read") is Decision.ALLOW
    assert auth.decide(zhang, XH, secret, "record:content") is Decision.DENY
    assert auth.decide(zhang, XH, Target(level="内部"), "record:content") is Decision.ALLOW
    assert auth.decide(zhang, "/root/hz/gs/", secret, "record:read") is Decision.HIDE


def test_personal_information_needs_its_clearance_and_a_business_role() -> None:
    auth = authorizer_with(("zhang", "staff", XH), ("wang", "staff", XH),
                           ("shen", "auditor", "/root/"))
    assert auth.decide(Subject("zhang", "内部", personal_info=True), XH, Target(),
                       "personal:read") is Decision.ALLOW
    assert auth.decide(Subject("wang", "内部"), XH, Target(),
                       "personal:read") is not Decision.ALLOW
    assert auth.decide(Subject("zhang", "内部", True), "/root/hz/gs/", Target(),
                       "personal:read") is Decision.HIDE
    # the auditor's duty holds no personal information, whatever the flag
    assert auth.decide(Subject("shen", "受限", True), XH, Target(),
                       "personal:read") is not Decision.ALLOW


def test_nobody_decides_their_own_request() -> None:
    auth = authorizer_with(("dang", "archivist", XH), ("wang", "archivist", XH))
    own = Target(key=borrow_key("d1"), requester="dang")
    assert auth.decide(Subject("dang"), XH, own, "borrow:decide") is Decision.DENY
    assert auth.decide(Subject("wang"), XH, own, "borrow:decide") is Decision.ALLOW


def test_a_borrow_grant_opens_reading_until_it_ends() -> None:
    now = [NOW]
    auth = authorizer_with(("zhang", "staff", "/root/hz/gs/"), now=now)
    until = (NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    auth._enforcer.add_named_policy("p2", "zhang", borrow_key("d1") + "*", until, "loan-1")
    zhang = Subject("zhang", "公开")
    lent = Target(key=borrow_key("d1", "r1"), level="受限")
    assert auth.decide(zhang, XH, lent, "record:content") is Decision.ALLOW
    assert auth.decide(zhang, XH, Target(key=borrow_key("d1")), "dossier:read") is Decision.ALLOW
    assert auth.decide(zhang, XH, lent, "record:create") is Decision.HIDE  # reading only
    assert auth.decide(zhang, XH, Target(key=borrow_key("d2", "r9"), level="公开"),
                       "record:content") is Decision.HIDE
    assert auth.decide(Subject("li", "受限"), XH, lent, "record:content") is Decision.HIDE
    assert auth.reach(zhang, "record:content").dossiers == ("d1",)
    assert auth.reach(zhang, "record:create").dossiers == ()
    now[0] = NOW + timedelta(days=7)
    assert auth.decide(zhang, XH, lent, "record:content") is Decision.HIDE
    assert auth.reach(zhang, "record:content").dossiers == ()


def _within(reach: Reach, unit: str, level: str, dossier: str, record: str) -> bool:
    return (any(unit.startswith(u) for u in reach.units) and level in reach.levels) or (
        dossier in reach.dossiers or record in reach.records)


def test_reach_as_filters_agrees_with_every_decision() -> None:
    """GIVEN users of several roles, clearances and loans WHEN each object of several
    units and levels is decided one by one THEN the reach filter selects exactly those
    allowed."""
    auth = authorizer_with(("zhang", "staff", XH), ("dang", "archivist", "/root/hz/"),
                           ("shen", "auditor", "/root/"))
    until = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    auth._enforcer.add_named_policy("p2", "zhang", borrow_key("d9") + "*", until, "loan")
    auth._enforcer.add_named_policy("p2", "zhang", borrow_key("d8", "r8"), until, "loan2")
    units = (XH, "/root/hz/", "/root/hz/gs/", "/root/nb/")
    objects = [(unit, level, dossier, record) for unit, level, (dossier, record) in
               itertools.product(units, ("公开", "内部", "受限"),
                                 (("d1", "r1"), ("d9", "r2"), ("d8", "r8"), ("d8", "r7")))]
    for subject in (Subject("zhang", "内部"), Subject("zhang", "受限"), Subject("dang", "公开"),
                    Subject("shen", "受限"), Subject("nobody", "受限")):
        for action in ("record:content", "record:read", "search"):
            reach = auth.reach(subject, action)
            for unit, level, dossier, record in objects:
                allowed = auth.decide(subject, unit, Target(borrow_key(dossier, record), level),
                                      action) is Decision.ALLOW
                assert allowed == _within(reach, unit, level, dossier, record), (
                    subject, action, unit, level, dossier, record)
