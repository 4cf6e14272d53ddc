"""The Casbin model itself: roles held in units reach their subtree, and nothing else;
clearance, own requests and borrow grants as attributes of the same model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from policies import Authorizer, Decision, Subject, Target, borrow_key

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
XH = "/root/hz/xh/"


def authorizer_with(*grants: tuple[str, str, str], now: list[datetime] | None = None
                    ) -> Authorizer:
    clock = now or [NOW]
    authorizer = Authorizer(clock=lambda: clock[0])  # the shipped default policy, from the CSV
    for user, role, unit in grants:
        authorizer._enforcer.add_grouping_policy(user, role, unit)
    return authorizer


def test_a_role_in_a_unit_reaches_its_subtree_only() -> None:
    auth = authorizer_with(("zhang", "staff", "/root/hz/xh/"), ("dang", "archivist", "/root/hz/"))
    assert auth.allows("zhang", "/root/hz/xh/", "record:read")
    assert auth.allows("zhang", "/root/hz/xh/team/", "record:read")
    assert not auth.allows("zhang", "/root/hz/", "record:read")  # not upwards
    assert not auth.allows("zhang", "/root/hz/gs/", "record:read")  # not sideways
    assert not auth.allows("zhang", "/root/hz/xh/", "record:create")  # not beyond the role
    assert auth.allows("dang", "/root/hz/gs/", "record:create")  # resource:* grants


def test_several_grants_in_several_units() -> None:
    auth = authorizer_with(("li", "staff", "/root/hz/xh/"), ("li", "archivist", "/root/nb/"))
    assert auth.allows("li", "/root/nb/bl/", "record:create")
    assert not auth.allows("li", "/root/hz/xh/", "record:create")  # only staff there
    assert auth.domains("li", "search") == ("/root/hz/xh/", "/root/nb/")
    assert auth.domains("li", "customer:create") == ("/root/nb/",)
    assert auth.domains("li", "audit:read") == ()


def test_no_grant_no_access() -> None:
    auth = authorizer_with()
    assert not auth.allows("nobody", "/root/", "search")
    assert auth.domains("nobody", "search") == ()


def test_content_needs_the_clearance_metadata_does_not() -> None:
    auth = authorizer_with(("zhang", "staff", XH))
    zhang = Subject("zhang", "内部")
    secret = Target(key=borrow_key("d1", "r1"), level="受限")
    assert auth.decide(zhang, XH, secret, "record:read") is Decision.ALLOW
    assert auth.decide(zhang, XH, secret, "record:content") is Decision.DENY
    assert auth.decide(zhang, XH, Target(level="内部"), "record:content") is Decision.ALLOW
    assert auth.decide(zhang, "/root/hz/gs/", secret, "record:read") is Decision.HIDE


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
    now[0] = NOW + timedelta(days=7)
    assert auth.decide(zhang, XH, lent, "record:content") is Decision.HIDE
