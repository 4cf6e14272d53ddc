"""Authorisation: the Casbin model and default policy, the enforcer, action and role names.

Public surface: :class:`Authorizer`, :class:`Subject`, :class:`Target`, :class:`Decision`,
:func:`borrow_key`, :class:`Action`, :class:`Role`, ``ROLE_LABELS``, ``SECURITY_LEVELS``,
:func:`unit_reaches`.
"""

from policies.actions import ROLE_LABELS, Action, Role
from policies.enforcer import (
    SECURITY_LEVELS,
    Authorizer,
    Decision,
    Subject,
    Target,
    borrow_key,
    unit_reaches,
)

__all__ = ["ROLE_LABELS", "SECURITY_LEVELS", "Action", "Authorizer", "Decision", "Role",
           "Subject", "Target", "borrow_key", "unit_reaches"]
