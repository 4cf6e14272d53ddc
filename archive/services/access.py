"""Who may do what to which object: the questions every service asks before acting.

Every answer comes from the actor's :class:`policies.Authorizer` (the Casbin model in
policies/model.conf): the actor's roles in units, the object's security level against the
actor's clearance, the personal-information clearance, borrow grants, and who filed a
request. No code path decides without it. Services name the object
(:class:`policies.Target`); this module turns the decision into the error the caller sees.

Public surface: :class:`Actor`, :func:`require`, :func:`require_unit`, :func:`permits`,
:func:`sees_personal`, :func:`reach`, :func:`search_units`, :func:`units_for`,
:func:`in_units`, ``SECURITY_LEVELS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_

from archive.errors import NotFound, PermissionDenied
from policies import SECURITY_LEVELS, Action, Authorizer, Decision, Reach, Subject, Target

__all__ = [
    "SECURITY_LEVELS",
    "Actor",
    "in_units",
    "permits",
    "reach",
    "require",
    "require_unit",
    "search_units",
    "sees_personal",
    "units_for",
]


@dataclass(frozen=True)
class Actor:
    """The authenticated user a request, job or command acts for, with the one decider
    every check of theirs goes to."""

    user_id: int
    username: str
    role: str
    unit_code: str
    unit_path: str
    clearance: str
    personal_info: bool = False  # holds the personal-information clearance
    authorizer: Authorizer = field(kw_only=True, compare=False, repr=False)
    must_change_password: bool = field(default=False, kw_only=True)  # signed in on a reset

    @property
    def subject(self) -> Subject:
        return Subject(self.username, self.clearance, self.personal_info)


def require(actor: Actor, action: str) -> None:
    """The actor holds ``action`` in at least one unit (objects are checked on their own)."""
    if not actor.authorizer.domains(actor.subject, action):
        raise PermissionDenied(f"{actor.username} ({actor.role or 'no role'}) may not {action}")


def require_unit(actor: Actor, unit_path: str, what: str, action: str,
                 target: Target | None = None) -> None:
    """The actor may perform ``action`` on an object of that unit. Objects the actor cannot
    reach are answered as missing, not as forbidden, so their existence is not disclosed;
    objects within reach but above the clearance, or the actor's own request to decide,
    are refused."""
    target = target or Target()
    decision = actor.authorizer.decide(actor.subject, unit_path, target, action)
    if decision is Decision.HIDE:
        raise NotFound(f"{what} not found")
    if decision is Decision.DENY:
        if target.requester == actor.username:
            raise PermissionDenied(f"{actor.username} may not decide their own request")
        raise PermissionDenied(f"{what} is {target.level}, above the clearance of "
                               f"{actor.username}; request borrowing to read it")


def permits(actor: Actor, unit_path: str, target: Target, action: str) -> bool:
    """What a route guarded by ``action`` would answer for this object: the actor's role
    holds the action, and the decision on the object allows it."""
    authorizer = actor.authorizer
    return bool(authorizer.domains(actor.subject, action)) and authorizer.decide(
        actor.subject, unit_path, target, action) is Decision.ALLOW


def sees_personal(actor: Actor, unit_path: str) -> bool:
    """Whether the actor reads the personal information (phone, ID, bank numbers) of an
    object of that unit unmasked: a role holding ``personal:read`` there and the
    personal-information clearance."""
    return actor.authorizer.decide(actor.subject, unit_path, Target(),
                                   Action.PERSONAL_READ) is Decision.ALLOW


def units_for(actor: Actor, action: str) -> tuple[str, ...]:
    """The unit subtrees (paths) where the actor may perform ``action``."""
    return actor.authorizer.domains(actor.subject, action)


def reach(actor: Actor, action: str) -> Reach:
    """The objects the actor may perform ``action`` on, as query filters."""
    return actor.authorizer.reach(actor.subject, action)


def in_units(path: ColumnElement[str], units: Iterable[str]) -> ColumnElement[bool]:
    """SQL: a unit path column lies in one of the subtrees ``units`` (false for none)."""
    return or_(false(), *(path.startswith(unit, autoescape=True) for unit in units))


def search_units(actor: Actor) -> tuple[str, ...]:
    """The unit subtrees the actor may search."""
    return units_for(actor, Action.SEARCH)
