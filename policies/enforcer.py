"""The policy decision point: a Casbin enforcer over the model and default policy files.

Public surface: :class:`Authorizer` (``allows(role, action)``), :func:`unit_reaches`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import casbin

MODEL_PATH = Path(__file__).with_name("model.conf")
POLICY_PATH = Path(__file__).with_name("default_policy.csv")


class Authorizer:
    """Answers whether a role may perform an action; thread-safe."""

    def __init__(self, model_path: Path = MODEL_PATH, policy_path: Path = POLICY_PATH) -> None:
        self._enforcer = casbin.Enforcer(str(model_path), str(policy_path))
        self._lock = threading.Lock()

    def allows(self, role: str, action: str) -> bool:
        with self._lock:
            return bool(self._enforcer.enforce(role, action))

    def actions_of(self, role: str) -> list[str]:
        with self._lock:
            return [row[1] for row in self._enforcer.get_filtered_policy(0, role)]


def unit_reaches(user_unit_path: str, object_unit_path: str) -> bool:
    """A user acting in a unit reaches that unit and everything below it."""
    return object_unit_path.startswith(user_unit_path)
