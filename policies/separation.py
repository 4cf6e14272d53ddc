"""Separation of duties (三员分立) as checks over a policy, so no edit can break it.

Public surface: :func:`separation_violations`, :func:`covers`.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.actions import Role

CONTENT = ("customer:read", "dossier:read", "record:read", "record:content", "search",
           "borrow:request", "borrow:decide", "record:delete", "disposition:read",
           "disposition:propose", "disposition:approve", "hold:place", "hold:release",
           "transfer:create", "transfer:read")
AUDIT = ("audit:read",)
GRANTING = ("role:assign", "policy:edit")
ACCOUNTS = ("account:create", "account:disable")


def covers(pattern: str, action: str) -> bool:
    """Whether a policy action (``record:*`` style, as Casbin's keyMatch) covers ``action``."""
    if pattern.endswith("*"):
        return action.startswith(pattern[:-1])
    return pattern == action


def _holds(rules: Iterable[tuple[str, str]], role: str, actions: Iterable[str]) -> list[str]:
    patterns = [act for r, act in rules if r == role]
    return [a for a in actions if any(covers(p, a) for p in patterns)]


def separation_violations(rules: Iterable[tuple[str, str]]) -> list[str]:
    """Every way the (role, action) rules break the separation of duties; empty if none."""
    rules = list(rules)
    problems = []
    for role in sorted({r for r, _ in rules}):
        if _holds(rules, role, AUDIT) and _holds(rules, role, CONTENT + GRANTING + ACCOUNTS):
            problems.append(f"{role}: who reads the audit log may not read content, grant or "
                            "manage accounts")
        if _holds(rules, role, GRANTING) and _holds(rules, role, ACCOUNTS):
            problems.append(f"{role}: who grants roles may not also manage accounts")
    for role, forbidden in ((Role.SECURITY_ADMIN, CONTENT + AUDIT + ACCOUNTS),
                            (Role.SYSTEM_ADMIN, CONTENT + AUDIT + GRANTING),
                            (Role.AUDITOR, CONTENT + GRANTING + ACCOUNTS)):
        held = _holds(rules, role, forbidden)
        if held:
            problems.append(f"{role} may not hold {', '.join(held)}")
    return problems
