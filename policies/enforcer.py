"""The policy decision point: a Casbin enforcer over the model file and the policy rules.

Rules live in the metadata database (table ``casbin_rule``, read through the
casbin-sqlalchemy-adapter) and are edited by the security admin through the API; each edit
bumps ``policy_version``, and every process reloads its rules before the next decision
once it sees a newer version. Without an engine (tests of the model itself) the rules come
from ``default_policy.csv``, which also seeds the database.

Public surface: :class:`Authorizer` (``allows(user, unit_path, action)``,
``domains(user, action)``), :func:`unit_reaches`, :func:`default_rules`.
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
    """Answers whether a user may perform an action in a unit; thread-safe."""

    def __init__(self, engine: Engine | None = None, model_path: Path = MODEL_PATH) -> None:
        self._lock = threading.Lock()
        self._engine = engine
        self._version: int | None = None
        if engine is None:
            self._enforcer = casbin.Enforcer(str(model_path), str(POLICY_PATH))
        else:
            from casbin_sqlalchemy_adapter import Adapter

            # Policy loads are bare reads: they must not queue behind a request's own
            # transaction (on SQLite every transaction holds the write lock).
            adapter = Adapter(engine.execution_options(isolation_level="AUTOCOMMIT"),
                              create_all_models=False)
            self._enforcer = casbin.Enforcer(str(model_path), adapter)
            self._version = self._current_version()
        self._enforcer.add_named_domain_matching_func("g", unit_reaches_grant)
        self._enforcer.build_role_links()

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

    def allows(self, user: str, unit_path: str, action: str) -> bool:
        with self._lock:
            self._refresh()
            return bool(self._enforcer.enforce(user, unit_path, action))

    def domains(self, user: str, action: str) -> tuple[str, ...]:
        """The unit paths where ``user`` holds a role that allows ``action`` (each reaching
        its subtree)."""
        with self._lock:
            self._refresh()
            grants = self._enforcer.get_filtered_grouping_policy(0, user)
            return tuple(sorted({unit for _, role, unit in grants
                                 if self._enforcer.enforce(user, unit, action)}))


def unit_reaches_grant(request_unit_path: str, grant_unit_path: str) -> bool:
    """Casbin domain matcher: a grant on a unit answers for the unit and its subtree."""
    return request_unit_path.startswith(grant_unit_path)


def unit_reaches(user_unit_path: str, object_unit_path: str) -> bool:
    """A user acting in a unit reaches that unit and everything below it."""
    return object_unit_path.startswith(user_unit_path)
