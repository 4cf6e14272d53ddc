"""Authorisation: the Casbin model and default policy, the enforcer, action and role names.

Public surface: :class:`Authorizer`, :class:`Action`, :class:`Role`, ``ROLE_LABELS``,
:func:`unit_reaches`.
"""

from policies.actions import ROLE_LABELS, Action, Role
from policies.enforcer import Authorizer, unit_reaches

__all__ = ["ROLE_LABELS", "Action", "Authorizer", "Role", "unit_reaches"]
