"""Authorisation: the Casbin model and default policy, the one decider, action and role names,
and the separation of duties (三员分立) as invariants over the policy.

Public surface: :class:`Authorizer` (the protocol), :class:`CasbinAuthorizer`,
:class:`Subject`, :class:`Target`, :class:`Decision`, :class:`Reach`, :func:`borrow_key`,
:class:`Action`, :class:`Role`, ``ROLE_LABELS``, ``SECURITY_LEVELS``.
"""

from policies.actions import ROLE_LABELS, Action, Role
from policies.base import (
    SECURITY_LEVELS,
    Authorizer,
    Decision,
    Reach,
    Subject,
    Target,
    borrow_key,
    grant_subject,
)
from policies.enforcer import CasbinAuthorizer

__all__ = ["ROLE_LABELS", "SECURITY_LEVELS", "Action", "Authorizer", "CasbinAuthorizer",
           "Decision", "Reach", "Role", "Subject", "Target", "borrow_key", "grant_subject"]
