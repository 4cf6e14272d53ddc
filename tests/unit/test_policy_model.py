"""The Casbin model itself: roles held in units reach their subtree, and nothing else."""

from __future__ import annotations

from policies import Authorizer


def authorizer_with(*grants: tuple[str, str, str]) -> Authorizer:
    authorizer = Authorizer()  # the shipped default policy, from the CSV
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
