"""Editing the access policy (安全管理员): rules as (role, action), guarded by the
separation of duties, audited, and seen by every process at once.

Public surface: :func:`list_rules`, :func:`add_rule`, :func:`remove_rule`,
:func:`set_grants` and :func:`grants_of` (a user's roles in units, as Casbin ``g`` rows),
:func:`bump_version`.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.db.models import PolicyRule, PolicyVersion
from archive.errors import Conflict, InvalidInput, NotFound
from policies import Action, Role
from policies.separation import separation_violations

_ACTION = re.compile(r"^[a-z]+(:[a-z*]+)?$")


def list_rules(session: Session) -> list[tuple[str, str]]:
    """The p rules (role, action)."""
    return [(r.v0 or "", r.v1 or "") for r in session.scalars(
        select(PolicyRule).where(PolicyRule.ptype == "p").order_by(PolicyRule.v0, PolicyRule.v1))]


def bump_version(session: Session) -> None:
    session.execute(update(PolicyVersion).where(PolicyVersion.id == 1)
                    .values(version=PolicyVersion.version + 1))


def _check(role: str, action: str) -> None:
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role}")
    known = {a.value for a in Action} | {"maintenance:*"}
    resource = action.split(":")[0]
    if not _ACTION.match(action) or (action not in known and not (
            action.endswith(":*") and any(k.startswith(resource + ":") for k in known))):
        raise InvalidInput(f"unknown action {action}")


def add_rule(session: Session, *, role: str, action: str) -> None:
    _check(role, action)
    rules = list_rules(session)
    if (role, action) in rules:
        raise Conflict(f"{role} already holds {action}")
    problems = separation_violations([*rules, (role, action)])
    if problems:
        raise Conflict("separation of duties: " + "; ".join(problems))
    session.add(PolicyRule(ptype="p", v0=role, v1=action))
    bump_version(session)


def remove_rule(session: Session, *, role: str, action: str) -> None:
    removed = session.execute(delete(PolicyRule).where(
        PolicyRule.ptype == "p", PolicyRule.v0 == role, PolicyRule.v1 == action)).rowcount
    if not removed:
        raise NotFound(f"{role} holds no rule {action}")
    bump_version(session)


# Roles that may be combined in one account; any other role is held alone (三员分立).
COMBINABLE = frozenset({Role.ARCHIVIST, Role.STAFF})


def set_grants(session: Session, *, username: str, grants: list[tuple[str, str]]) -> None:
    """Make ``grants`` — (role, unit path) pairs, the first the user's home — the user's
    only role grants (none if empty). A user may act in several units, but an administrator
    or auditor role is never combined with another role."""
    roles = {role for role, _ in grants}
    if len(roles) > 1 and not roles <= COMBINABLE:
        raise Conflict("separation of duties: "
                       f"{', '.join(sorted(roles - COMBINABLE))} is held alone")
    session.execute(delete(PolicyRule).where(PolicyRule.ptype == "g",
                                             PolicyRule.v0 == username))
    for role, unit_path in dict.fromkeys(grants):
        session.add(PolicyRule(ptype="g", v0=username, v1=role, v2=unit_path))
    bump_version(session)


def grants_of(session: Session, username: str) -> list[tuple[str, str]]:
    """The user's (role, unit path) grants, in the order given."""
    return [(r.v1 or "", r.v2 or "") for r in session.scalars(
        select(PolicyRule).where(PolicyRule.ptype == "g", PolicyRule.v0 == username)
        .order_by(PolicyRule.id))]
