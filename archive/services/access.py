"""Who may do what to which object: the questions every service asks before acting.

The answers come from the Casbin model (policies/model.conf): the actor's roles in units,
the object's security level against the actor's clearance, borrow grants, and who filed a
borrow request. Services name the object (:class:`policies.Target`); this module turns the
decision into the error the caller sees.

Public surface: :class:`Actor`, :func:`require`, :func:`require_unit`, :func:`holds_loan`,
:func:`search_units`, :func:`units_for`, :func:`in_units`,
:func:`clearance_allows`, :func:`levels_within`, ``SECURITY_LEVELS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_

from archive.errors import NotFound, PermissionDenied
from policies import SECURITY_LEVELS, Authorizer, Decision, Subject, Target, unit_reaches
from policies.enforcer import within_clearance

__all__ = [
    "SECURITY_LEVELS",
    "Actor",
    "clearance_allows",
    "holds_loan",
    "in_units",
    "levels_within",
    "require",
    "require_unit",
    "search_units",
    "units_for",
]


@dataclass(frozen=True)
class Actor:
    """The authenticated user a request acts for."""

    user_id: int
    username: str
    role: str
    unit_code: str
    unit_path: str
    clearance: str
    personal_info: bool = False  # may read personal information unmasked
    # The policy decision point the actor's object checks go to (policies.Authorizer).
    authorizer: Any = field(default=None, compare=False, repr=False)

    @property
    def subject(self) -> Subject:
        return Subject(self.username, self.clearance)


def require(authorizer: Authorizer, actor: Actor, action: str) -> None:
    """The actor holds ``action`` in at least one unit (objects are checked on their own)."""
    if not authorizer.domains(actor.username, action):
        raise PermissionDenied(f"{actor.username} ({actor.role or 'no role'}) may not {action}")


def _decide_locally(actor: Actor, unit_path: str, target: Target, action: str) -> Decision:
    """Without an authorizer (services driven directly, e.g. in unit tests) the actor's own
    unit subtree and clearance decide."""
    if not unit_reaches(actor.unit_path, unit_path):
        return Decision.HIDE
    if action == "record:content" and not within_clearance(target.level, actor.clearance):
        return Decision.DENY
    return Decision.ALLOW


def require_unit(actor: Actor, unit_path: str, what: str, action: str,
                 target: Target | None = None) -> None:
    """The actor may perform ``action`` on an object of that unit. Objects the actor cannot
    reach are answered as missing, not as forbidden, so their existence is not disclosed;
    objects within reach but above the clearance, or the actor's own request to decide,
    are refused."""
    target = target or Target()
    if actor.authorizer is not None:
        decision = actor.authorizer.decide(actor.subject, unit_path, target, action)
    else:
        decision = _decide_locally(actor, unit_path, target, action)
    if decision is Decision.HIDE:
        raise NotFound(f"{what} not found")
    if decision is Decision.DENY:
        if target.requester == actor.username:
            raise PermissionDenied(f"{actor.username} may not decide their own request")
        raise PermissionDenied(f"{what} is {target.level}, above the clearance of "
                               f"{actor.username}; request borrowing to read it")


def holds_loan(actor: Actor, target: Target, action: str = "record:content") -> bool:
    """Whether a borrow grant opens ``target`` to the actor for ``action`` right now."""
    return actor.authorizer is not None and actor.authorizer.borrowed(
        actor.subject, target, action)


def units_for(actor: Actor, action: str) -> tuple[str, ...]:
    """The unit subtrees (paths) where the actor may perform ``action``; without an
    authorizer, the actor's own unit, as :func:`require_unit` decides then."""
    if actor.authorizer is not None:
        return actor.authorizer.domains(actor.username, action)
    return (actor.unit_path,)


def in_units(path: ColumnElement[str], units: Iterable[str]) -> ColumnElement[bool]:
    """SQL: a unit path column lies in one of the subtrees ``units`` (false for none)."""
    return or_(false(), *(path.startswith(unit, autoescape=True) for unit in units))


def search_units(actor: Actor) -> tuple[str, ...]:
    """The unit subtrees the actor may search."""
    return units_for(actor, "search")


def clearance_allows(actor: Actor, security_level: str) -> bool:
    return within_clearance(security_level, actor.clearance)


def levels_within(clearance: str) -> tuple[str, ...]:
    return SECURITY_LEVELS[: SECURITY_LEVELS.index(clearance) + 1]
