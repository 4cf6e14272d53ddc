"""Separation of duties (三员分立) as invariants over the whole policy.

Every action belongs to exactly one duty, and every role to one duty: the business roles
(档案管理员, 业务人员) work with the archive's content, the auditor (审计员) reads the audit
log, the security admin (安全管理员) grants roles and edits the policy, the system admin
(系统管理员) manages accounts and runs maintenance. A role may hold only the actions of its
own duty, so no administrator or auditor ever reads content, changes records or holds
another's rights, and no business role grants, audits or manages accounts. Some rules keep
the duties working and are never removed: the auditor reads the log, the security admin
edits the policy and grants roles, the system admin creates and disables accounts.

One action is shared (``SHARED``): reading the account directory (names, roles, units,
whether active), which both administrators need to do their half — the system admin to
disable the right account, the security admin to find whom to grant. It reads no content
and changes nothing, and it is shared between those two duties only: never with the
auditor or the business roles.

The policy service checks :func:`violations` on the policy as it would be after every
addition and every removal, and refuses the edit (409) naming the invariant.

Public surface: :class:`Duty`, ``DUTY_OF_ACTION``, ``DUTIES_OF_ACTION``, ``SHARED``,
``DUTY_OF_ROLE``, ``REQUIRED``,
:class:`Violation`, :func:`violations`, :func:`covers`, :func:`covered_actions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from policies.actions import Action, Role


class Duty(StrEnum):
    BUSINESS = "business"  # 业务: the archive's content and its use
    AUDIT = "audit"  # 审计: the audit log
    SECURITY = "security"  # 安全保密: roles and policy
    SYSTEM = "system"  # 系统: accounts and maintenance


_DUTIES: dict[Duty, tuple[Action, ...]] = {
    Duty.BUSINESS: (
        Action.CUSTOMER_CREATE, Action.CUSTOMER_READ, Action.CUSTOMER_UPDATE,
        Action.DOSSIER_CREATE, Action.DOSSIER_READ, Action.DOSSIER_UPDATE,
        Action.RECORD_CREATE, Action.RECORD_READ, Action.RECORD_CONTENT, Action.RECORD_UPDATE,
        Action.PERSONAL_READ, Action.JOB_READ, Action.JOB_RETRY, Action.SEARCH,
        Action.BORROW_REQUEST, Action.BORROW_DECIDE, Action.BORROW_STATS,
        Action.RECORD_DELETE, Action.RETENTION_READ, Action.RETENTION_EDIT,
        Action.DISPOSITION_READ, Action.DISPOSITION_PROPOSE, Action.DISPOSITION_APPROVE,
        Action.HOLD_PLACE, Action.HOLD_RELEASE, Action.TRANSFER_CREATE, Action.TRANSFER_READ,
    ),
    Duty.AUDIT: (Action.AUDIT_READ,),
    Duty.SECURITY: (Action.ROLE_ASSIGN, Action.POLICY_EDIT),
    Duty.SYSTEM: (Action.ACCOUNT_CREATE, Action.ACCOUNT_DISABLE, Action.ACCOUNT_RESET,
                  Action.MAINTENANCE),
}
# Actions that two duties need, each listed with both (see the module's docstring).
SHARED: dict[Action, frozenset[Duty]] = {
    Action.ACCOUNT_READ: frozenset({Duty.SYSTEM, Duty.SECURITY}),
}
# The one duty of every action that is not shared.
DUTY_OF_ACTION: dict[Action, Duty] = {
    action: duty for duty, actions in _DUTIES.items() for action in actions}
# Every action with the duties that may hold it.
DUTIES_OF_ACTION: dict[Action, frozenset[Duty]] = {
    **{action: frozenset({duty}) for action, duty in DUTY_OF_ACTION.items()}, **SHARED}
DUTY_OF_ROLE: dict[Role, Duty] = {
    Role.ARCHIVIST: Duty.BUSINESS, Role.STAFF: Duty.BUSINESS, Role.AUDITOR: Duty.AUDIT,
    Role.SECURITY_ADMIN: Duty.SECURITY, Role.SYSTEM_ADMIN: Duty.SYSTEM,
}
DUTY_LABELS = {Duty.BUSINESS: "业务", Duty.AUDIT: "审计", Duty.SECURITY: "安全保密",
               Duty.SYSTEM: "系统管理"}
# Rules the duties cannot work without: never removed.
REQUIRED: tuple[tuple[Role, Action], ...] = (
    (Role.AUDITOR, Action.AUDIT_READ),
    (Role.SECURITY_ADMIN, Action.POLICY_EDIT),
    (Role.SECURITY_ADMIN, Action.ROLE_ASSIGN),
    (Role.SYSTEM_ADMIN, Action.ACCOUNT_CREATE),
    (Role.SYSTEM_ADMIN, Action.ACCOUNT_DISABLE),
)


_ROLES = frozenset(role.value for role in Role)


def covers(pattern: str, action: str) -> bool:
    """Whether a policy action (``record:*`` style, as Casbin's keyMatch) covers ``action``."""
    if pattern.endswith("*"):
        return action.startswith(pattern[:-1])
    return pattern == action


def covered_actions(pattern: str) -> list[Action]:
    return [action for action in Action if covers(pattern, action)]


@dataclass(frozen=True)
class Violation:
    """One broken invariant: ``code`` names it (``duty`` or ``required``)."""

    code: str
    detail: str


def violations(rules: Iterable[tuple[str, str]]) -> list[Violation]:
    """Every way the (role, action pattern) rules break the separation of duties; empty
    if none."""
    rules = list(rules)
    found = []
    for role, pattern in rules:
        duty = DUTY_OF_ROLE[Role(role)] if role in _ROLES else None
        if duty is None:
            found.append(Violation("duty", f"{role} is not a role of the archive"))
            continue
        foreign = [a for a in covered_actions(pattern) if duty not in DUTIES_OF_ACTION[a]]
        if foreign:
            found.append(Violation("duty", (
                f"{role} ({DUTY_LABELS[duty]}) may hold only {DUTY_LABELS[duty]} actions, "
                f"not {', '.join(foreign)}")))
    for role, action in REQUIRED:
        if not any(r == role and covers(p, action) for r, p in rules):
            found.append(Violation("required", f"{role} must keep {action}"))
    return found
