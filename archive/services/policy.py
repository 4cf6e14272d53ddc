"""Editing the access policy (安全管理员): rules as (role, action), guarded by the
separation of duties, audited, and seen by every process at once.

Public surface: :func:`list_rules`, :func:`add_rule`, :func:`remove_rule`,
:func:`set_grant` (a user's role in a unit, as a Casbin ``g`` row).
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


def _bump(session: Session) -> None:
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
    _bump(session)


def remove_rule(session: Session, *, role: str, action: str) -> None:
    removed = session.execute(delete(PolicyRule).where(
        PolicyRule.ptype == "p", PolicyRule.v0 == role, PolicyRule.v1 == action)).rowcount
    if not removed:
        raise NotFound(f"{role} holds no rule {action}")
    _bump(session)


def set_grant(session: Session, *, username: str, role: str, unit_path: str) -> None:
    """Make ``role`` in ``unit_path`` the user's only grant (none if ``role`` is empty)."""
    session.execute(delete(PolicyRule).where(PolicyRule.ptype == "g",
                                             PolicyRule.v0 == username))
    if role:
        session.add(PolicyRule(ptype="g", v0=username, v1=role, v2=unit_path))
    _bump(session)
