"""Who may do what to which object: the questions every service asks before acting.

Public surface: :class:`Actor`, :func:`require`, :func:`require_unit`,
:func:`clearance_allows`, ``SECURITY_LEVELS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.errors import NotFound, PermissionDenied
from policies import Authorizer, unit_reaches

# 密级: from open to restricted; a clearance reaches its own level and those below.
SECURITY_LEVELS = ("公开", "内部", "受限")


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


def require(authorizer: Authorizer, actor: Actor, action: str) -> None:
    """The actor holds ``action`` in at least one unit (objects are checked on their own)."""
    if not authorizer.domains(actor.username, action):
        raise PermissionDenied(f"{actor.username} ({actor.role or 'no role'}) may not {action}")


def require_unit(actor: Actor, unit_path: str, what: str, action: str) -> None:
    """The actor may perform ``action`` on an object of that unit. Objects the actor cannot
    reach are answered as missing, not as forbidden, so their existence is not disclosed.

    Without an authorizer (services driven directly, e.g. in unit tests) the actor's own
    unit subtree decides."""
    if actor.authorizer is not None:
        reach = actor.authorizer.allows(actor.username, unit_path, action)
    else:
        reach = unit_reaches(actor.unit_path, unit_path)
    if not reach:
        raise NotFound(f"{what} not found")


def search_units(actor: Actor) -> tuple[str, ...]:
    """The unit subtrees the actor may search."""
    if actor.authorizer is not None:
        return actor.authorizer.domains(actor.username, "search")
    return (actor.unit_path,)


def clearance_allows(actor: Actor, security_level: str) -> bool:
    return SECURITY_LEVELS.index(security_level) <= SECURITY_LEVELS.index(actor.clearance)


def levels_within(clearance: str) -> tuple[str, ...]:
    return SECURITY_LEVELS[: SECURITY_LEVELS.index(clearance) + 1]
