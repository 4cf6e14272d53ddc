"""Editing the access policy (安全管理员): rules as (role, action), guarded by the
separation of duties, audited, and seen by every process at once.

Every edit of a rule, and every change of a user's grants, is checked against the invariants
of :mod:`policies.separation` over the whole policy as it would be afterwards, and refused
(409, :class:`archive.errors.SeparationOfDuties`) naming the invariant it would break.

Public surface: :func:`list_rules`, :func:`add_rule`, :func:`remove_rule`,
:func:`set_grants`, :func:`grants_of` (a user's roles in units, as Casbin ``g`` rows) and
:func:`grants_by_user`,
:func:`require_other_holder`, :func:`bump_version`, :func:`lock_policy`.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive.db.models import PolicyRule, PolicyVersion
from archive.errors import Conflict, InvalidInput, NotFound, SeparationOfDuties
from archive.services.audit import Event
from archive.services.work import Work
from policies import Role, grant_subject
from policies.separation import covered_actions, violations

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
        raise InvalidInput(f"unknown role {role}; one of {', '.join(r.value for r in Role)}")
    if not _ACTION.match(action) or not covered_actions(action):
        raise InvalidInput(f"unknown action {action}")


def _refuse_violations(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> None:
    """Refuse an edit after which the policy breaks an invariant. A policy that broke one
    already (an older installation) may still be repaired: an edit that only removes
    violations is accepted."""
    found = violations(after)
    if found and not set(found) < set(violations(before)):
        first = found[0]
        raise SeparationOfDuties(first.code, "; ".join(v.detail for v in found))


def add_rule(session: Session, *, role: str, action: str) -> None:
    _check(role, action)
    lock_policy(session)
    rules = list_rules(session)
    if (role, action) in rules:
        raise Conflict(f"{role} already holds {action}")
    _refuse_violations(rules, [*rules, (role, action)])
    session.add(PolicyRule(ptype="p", v0=role, v1=action))
    bump_version(session)


def remove_rule(session: Session, *, role: str, action: str) -> None:
    lock_policy(session)
    rules = list_rules(session)
    if (role, action) not in rules:
        raise NotFound(f"{role} holds no rule {action}")
    _refuse_violations(rules, [rule for rule in rules if rule != (role, action)])
    session.execute(delete(PolicyRule).where(
        PolicyRule.ptype == "p", PolicyRule.v0 == role, PolicyRule.v1 == action))
    bump_version(session)


# Roles that may be combined in one account; any other role is held alone (三员分立).
COMBINABLE = frozenset({Role.ARCHIVIST, Role.STAFF})
# Duties that must keep an active holder: without one the audit log goes unread, or roles
# and accounts can no longer be managed.
GUARDED = (Role.AUDITOR, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN)


def lock_policy(session: Session) -> None:
    """Serialise policy and grant edits (each checks invariants over the whole policy, so
    two edits passing each other could together break one)."""
    session.execute(select(PolicyVersion.id).where(PolicyVersion.id == 1).with_for_update())


def roles_of(session: Session, username: str) -> set[str]:
    return {role for role, _ in grants_of(session, username)}


def require_other_holder(session: Session, *, username: str, losing: set[str]) -> None:
    """Refuse (409) when ``username`` is the last active account holding a guarded role
    it is about to lose (role change or disabling)."""
    from archive.db.models import User

    for role in sorted(losing & set(GUARDED)):
        holders = {(v0 or "").removeprefix(grant_subject("")) for v0 in session.scalars(
            select(PolicyRule.v0).where(PolicyRule.ptype == "g", PolicyRule.v1 == role))}
        holders.discard(username)
        others = holders and session.scalar(
            select(func.count()).select_from(User)
            .where(User.username.in_(holders), User.active.is_(True)))
        if not others:
            raise SeparationOfDuties("last_holder", (
                f"{username} is the last active {role}; give the role to another account "
                "first"))


def set_grants(session: Session, *, username: str, grants: list[tuple[str, str]]) -> None:
    """Make ``grants`` — (role, unit path) pairs, the first the user's home — the user's
    only role grants (none if empty). A user may act in several units, but an administrator
    or auditor role is never combined with another role, and the last active holder of
    an administrator or auditor role keeps it."""
    lock_policy(session)
    roles = {role for role, _ in grants}
    if len(roles) > 1 and not roles <= COMBINABLE:
        raise SeparationOfDuties("held_alone",
                                 f"{', '.join(sorted(roles - COMBINABLE))} is held alone")
    require_other_holder(session, username=username, losing=roles_of(session, username) - roles)
    session.execute(delete(PolicyRule).where(PolicyRule.ptype == "g",
                                             PolicyRule.v0 == grant_subject(username)))
    for role, unit_path in dict.fromkeys(grants):
        session.add(PolicyRule(ptype="g", v0=grant_subject(username), v1=role, v2=unit_path))
    bump_version(session)


def grants_of(session: Session, username: str) -> list[tuple[str, str]]:
    """The user's (role, unit path) grants, in the order given."""
    return [(r.v1 or "", r.v2 or "") for r in session.scalars(
        select(PolicyRule).where(PolicyRule.ptype == "g",
                                 PolicyRule.v0 == grant_subject(username))
        .order_by(PolicyRule.id))]


def grants_by_user(session: Session, usernames: list[str]) -> dict[str, list[tuple[str, str]]]:
    """:func:`grants_of` for several users in one query."""
    found: dict[str, list[tuple[str, str]]] = {username: [] for username in usernames}
    subjects = {grant_subject(username): username for username in usernames}
    for rule in session.scalars(select(PolicyRule).where(
            PolicyRule.ptype == "g", PolicyRule.v0.in_(subjects)).order_by(PolicyRule.id)):
        found[subjects[rule.v0 or ""]].append((rule.v1 or "", rule.v2 or ""))
    return found


# The operations of the API, each recording its audit event in the caller's unit of work.

def read_rules(work: Work) -> list[tuple[str, str]]:
    rules = list_rules(work.session)
    work.record(Event("policy:read", "policy", ""))
    return rules


def grant_rule(work: Work, *, role: str, action: str) -> None:
    add_rule(work.session, role=role, action=action)
    work.record(Event("policy:add", "policy", f"{role} {action}"[:64],
                      details={"role": role, "action": action}))


def revoke_rule(work: Work, *, role: str, action: str) -> None:
    remove_rule(work.session, role=role, action=action)
    work.record(Event("policy:remove", "policy", f"{role} {action}"[:64],
                      details={"role": role, "action": action}))
