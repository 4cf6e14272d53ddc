"""The policy decision point: a Casbin enforcer over the model file and the policy rules.

Rules live in the metadata database (table ``casbin_rule``, read through the
casbin-sqlalchemy-adapter) and are edited by the security admin through the API; each edit
bumps ``policy_version``, and every process reloads its rules before the next decision
once it sees a newer version. Without an engine (tests of the model itself) the rules come
from ``default_policy.csv``, which also seeds the database.

Public surface: :class:`Authorizer` (``allows(role, action)``), :func:`unit_reaches`,
:func:`default_rules`.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import casbin
from sqlalchemy import Engine, text

MODEL_PATH = Path(__file__).with_name("model.conf")
POLICY_PATH = Path(__file__).with_name("default_policy.csv")


def default_rules(path: Path = POLICY_PATH) -> list[tuple[str, ...]]:
    """The shipped policy as (ptype, v0, v1, …) rows."""
    with open(path, encoding="utf-8") as f:
        return [tuple(cell.strip() for cell in row) for row in csv.reader(f)
                if row and not row[0].lstrip().startswith("#")]


class Authorizer:
    """Answers whether a role may perform an action; thread-safe."""

    def __init__(self, engine: Engine | None = None, model_path: Path = MODEL_PATH) -> None:
        self._lock = threading.Lock()
        self._engine = engine
        self._version: int | None = None
        if engine is None:
            self._enforcer = casbin.Enforcer(str(model_path), str(POLICY_PATH))
        else:
            from casbin_sqlalchemy_adapter import Adapter

            adapter = Adapter(engine, create_all_models=False)
            self._enforcer = casbin.Enforcer(str(model_path), adapter)
            self._version = self._current_version()

    def _current_version(self) -> int | None:
        assert self._engine is not None
        # Autocommit: a bare read, no transaction (and no SQLite write lock) around it.
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return conn.execute(text("SELECT version FROM policy_version WHERE id = 1")
                                ).scalar()

    def _refresh(self) -> None:
        if self._engine is None:
            return
        version = self._current_version()
        if version != self._version:
            self._enforcer.load_policy()
            self._version = version

    def allows(self, role: str, action: str) -> bool:
        if not role:
            return False
        with self._lock:
            self._refresh()
            return bool(self._enforcer.enforce(role, action))

    def actions_of(self, role: str) -> list[str]:
        with self._lock:
            self._refresh()
            return [row[1] for row in self._enforcer.get_filtered_policy(0, role)]


def unit_reaches(user_unit_path: str, object_unit_path: str) -> bool:
    """A user acting in a unit reaches that unit and everything below it."""
    return object_unit_path.startswith(user_unit_path)
