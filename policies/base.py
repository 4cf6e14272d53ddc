"""The Authorizer protocol: the one place that decides, and the values it speaks in.

Public surface: :class:`Authorizer`, :class:`Subject`, :class:`Target`, :class:`Decision`,
:class:`Reach`, :func:`borrow_key`, :func:`lent_objects`, :func:`grant_subject`,
``SECURITY_LEVELS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

# 密级: from open to restricted; a clearance reaches its own level and those below.
SECURITY_LEVELS = ("公开", "内部", "受限")


def grant_subject(username: str) -> str:
    """The name a user's role grants (``g`` rows) carry in the policy. Casbin takes a name
    equal to a role's for that role itself, in every unit: a user called ``auditor`` would
    hold the auditor's rights everywhere. Users are therefore named apart from roles."""
    return f"user:{username}"


@dataclass(frozen=True)
class Subject:
    """Who asks (``r.sub`` in the model): the account, its clearance for record levels,
    and whether it holds the personal-information clearance (个人信息)."""

    name: str
    clearance: str = SECURITY_LEVELS[0]
    personal_info: bool = False

    @property
    def key(self) -> str:
        """The subject as its role grants name it (``r.sub.key``)."""
        return grant_subject(self.name)


@dataclass(frozen=True)
class Target:
    """What is asked about (``r.obj``): its borrow key, security level and, for a borrow
    request or destruction being decided, who filed it."""

    key: str = ""
    level: str = SECURITY_LEVELS[0]
    requester: str = ""


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"  # within the user's reach, but not this (clearance, own request): 403
    HIDE = "hide"  # outside the user's reach: answered as missing, 404


@dataclass(frozen=True)
class Reach:
    """Where an action is allowed, as filters a query can apply: objects whose unit path
    starts with one of ``units`` and whose level is one of ``levels``, and besides those
    the dossiers and records lent to the subject (borrow grants)."""

    units: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    dossiers: tuple[str, ...] = ()
    records: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not ((self.units and self.levels) or self.dossiers or self.records)


def borrow_key(dossier_id: str, record_id: str | None = None) -> str:
    """The object key borrow grants match: ``dossier:7/record:42``; ``dossier:7/`` for the
    dossier itself, whose grant pattern ``dossier:7/*`` covers all of its records."""
    return f"dossier:{dossier_id}/" + (f"record:{record_id}" if record_id else "")


def lent_objects(patterns: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (dossier ids, record ids) that borrow grant patterns of :func:`borrow_key`
    open: ``dossier:7/*`` a whole dossier, ``dossier:7/record:42`` one record."""
    dossiers, records = [], []
    for pattern in patterns:
        head, _, rest = pattern.partition("/")
        if not head.startswith("dossier:"):
            continue
        if rest == "*":
            dossiers.append(head.removeprefix("dossier:"))
        elif rest.startswith("record:"):
            records.append(rest.removeprefix("record:"))
    return tuple(sorted(set(dossiers))), tuple(sorted(set(records)))


@runtime_checkable
class Authorizer(Protocol):
    """The policy decision point: every authorisation decision of the application, its
    workers and its CLI is one of these calls, and nothing else decides.

    Contract every implementation MUST keep:
    - ``decide`` answers ALLOW only if a role the subject holds in a unit reaching
      ``unit_path`` allows ``action`` on ``target`` (its level within the clearance for
      content, personal information only with that clearance, never one's own borrow
      request or destruction proposal), or a borrow grant of the subject opens the target
      for reading now. Otherwise DENY if the subject's roles reach the object at all (it
      may know the object exists), else HIDE.
    - ``domains`` lists the unit paths where the subject holds a role allowing ``action``
      on an open object; each reaches its subtree. Empty means never.
    - ``reach`` describes, as filters, exactly the objects ``decide`` would allow
      ``action`` on for a target of each level: a query filtered by it finds what the
      subject may see, no more.
    - ``refresh`` makes every committed policy change count from the next decision on
      (``force``: reload whatever the policy's version says); callers SHOULD call it once
      at the start of a unit of work (a request, a job). Decisions MAY be remembered
      until then, never past a change of the policy.
    - Implementations MUST be safe to call from several threads.
    """

    def decide(self, subject: Subject, unit_path: str, target: Target, action: str
               ) -> Decision: ...

    def domains(self, subject: Subject, action: str) -> tuple[str, ...]: ...

    def reach(self, subject: Subject, action: str) -> Reach: ...

    def refresh(self, *, force: bool = False) -> None: ...
