"""Who may do what to which object: the questions every service asks before acting.

Public surface: :class:`Actor`, :func:`require`, :func:`require_unit`,
:func:`clearance_allows`, ``SECURITY_LEVELS``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def require(authorizer: Authorizer, actor: Actor, action: str) -> None:
    if not authorizer.allows(actor.role, action):
        raise PermissionDenied(f"role {actor.role} may not {action}")


def require_unit(actor: Actor, unit_path: str, what: str) -> None:
    """Objects outside the actor's units are answered as missing, not as forbidden,
    so their existence is not disclosed."""
    if not unit_reaches(actor.unit_path, unit_path):
        raise NotFound(f"{what} not found")


def clearance_allows(actor: Actor, security_level: str) -> bool:
    return SECURITY_LEVELS.index(security_level) <= SECURITY_LEVELS.index(actor.clearance)


def levels_within(clearance: str) -> tuple[str, ...]:
    return SECURITY_LEVELS[: SECURITY_LEVELS.index(clearance) + 1]
