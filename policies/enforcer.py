"""The policy decision point: a Casbin enforcer over the model file and the policy rules.

Rules live in the metadata database (table ``casbin_rule``, read through the
casbin-sqlalchemy-adapter) and are edited by the security admin through the API; each edit
bumps ``policy_version``. :meth:`CasbinAuthorizer.refresh` reloads the rules when it sees a newer
version; the web app calls it once at the start of every request, so every process sees a
change from its next request on. Without an engine (tests of the model itself) the rules
come from ``default_policy.csv``, which also seeds the database.

Public surface: :class:`CasbinAuthorizer` (the :class:`policies.base.Authorizer`),
:func:`default_rules`, :func:`grant_time`, :func:`within_clearance`.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import casbin
from sqlalchemy import Engine, text

from policies.base import (
    SECURITY_LEVELS,
    Decision,
    Reach,
    Subject,
    Target,
    lent_objects,
)

MODEL_PATH = Path(__file__).with_name("model.conf")
POLICY_PATH = Path(__file__).with_name("default_policy.csv")


def default_rules(path: Path = POLICY_PATH) -> list[tuple[str, ...]]:
    """The shipped policy as (ptype, v0, v1, …) rows."""
    with open(path, encoding="utf-8") as f:
        return [tuple(cell.strip() for cell in row) for row in csv.reader(f)
                if row and not row[0].lstrip().startswith("#")]


def within_clearance(level: str, clearance: str) -> bool:
    if level not in SECURITY_LEVELS or clearance not in SECURITY_LEVELS:
        return False
    return SECURITY_LEVELS.index(level) <= SECURITY_LEVELS.index(clearance)


def grant_time(moment: datetime) -> str:
    """A moment as borrow grants hold it (``p2.until``): UTC ISO text, which compares in
    time order as plain text. Naive moments are taken as UTC (SQLite hands them back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CasbinAuthorizer:
    """The :class:`policies.base.Authorizer` of the archive: Casbin over ``model.conf``.

    ``clock`` gives the time borrow grants are compared with (tests move it)."""

    def __init__(self, engine: Engine | None = None, model_path: Path = MODEL_PATH,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
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
        self._enforcer.add_function("within_clearance", within_clearance)
        self._enforcer.add_named_domain_matching_func("g", unit_reaches_grant)
        self._enforcer.build_role_links()
        self._borrowing = self._enforcer.new_enforce_context("2")
        # Decisions of model part 1 under the policy loaded now (it holds no time): pycasbin
        # evaluates the matcher once per policy row, about 0.7 ms a decision, and a search
        # asks the same few questions for every hit. Emptied whenever the policy reloads.
        self._decided: dict[tuple, bool] = {}
        matcher = self._enforcer.model["m"]["m"].value
        self._by_key = "r_obj.key" in matcher or "r.obj.key" in matcher

    def _current_version(self) -> int | None:
        assert self._engine is not None
        # Autocommit: a bare read, no transaction (and no SQLite write lock) around it.
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return conn.execute(text("SELECT version FROM policy_version WHERE id = 1")
                                ).scalar()

    def refresh(self, *, force: bool = False) -> None:
        """Reload the rules if the security admin (or borrowing) changed them since, or
        with ``force`` whatever the version says (after rules were changed underneath)."""
        if self._engine is None:
            with self._lock:
                self._decided.clear()
            return
        version = self._current_version()
        with self._lock:
            if force or version != self._version:
                self._enforcer.load_policy()
                self._decided.clear()
                self._version = version

    def _enforce(self, subject: Subject, unit_path: str, target: Target, action: str
                 ) -> bool:
        key = (subject, unit_path, target.level, target.requester,
               target.key if self._by_key else None, action)
        decided = self._decided.get(key)
        if decided is None:
            decided = bool(self._enforcer.enforce(subject, unit_path, target, action))
            if len(self._decided) >= 100_000:
                self._decided.clear()
            self._decided[key] = decided
        return decided

    def _borrowed(self, subject: Subject, target: Target, action: str) -> bool:
        return bool(target.key) and bool(self._enforcer.enforce(
            self._borrowing, subject, target, action, grant_time(self._clock())))

    def decide(self, subject: Subject, unit_path: str, target: Target, action: str
               ) -> Decision:
        with self._lock:
            if self._borrowed(subject, target, action):
                return Decision.ALLOW
            if self._enforce(subject, unit_path, target, action):
                return Decision.ALLOW
            # Would the role reach it, were it open and nobody's request? Then the user
            # knows it exists and is refused; otherwise it is not disclosed.
            if self._enforce(subject, unit_path, Target(key=target.key), action):
                return Decision.DENY
            return Decision.HIDE

    def _domains(self, subject: Subject, action: str) -> tuple[str, ...]:
        grants = self._enforcer.get_filtered_grouping_policy(0, subject.key)
        return tuple(sorted({unit for _, _role, unit in grants
                             if self._enforce(subject, unit, Target(), action)}))

    def domains(self, subject: Subject, action: str) -> tuple[str, ...]:
        """The unit paths where the subject holds a role that allows ``action`` on an open
        object (each reaching its subtree)."""
        with self._lock:
            return self._domains(subject, action)

    def reach(self, subject: Subject, action: str) -> Reach:
        """The objects ``decide`` allows ``action`` on, as filters: the role's units with
        the levels the model lets through there, and what borrow grants open now."""
        with self._lock:
            units = self._domains(subject, action)
            levels = tuple(level for level in SECURITY_LEVELS if units and self._enforce(
                subject, units[0], Target(level=level), action))
            now = grant_time(self._clock())
            patterns = [pattern for _, pattern, *_ in
                        self._enforcer.get_filtered_named_policy("p2", 0, subject.name)
                        if self._enforcer.enforce(self._borrowing, subject,
                                                  Target(key=pattern.removesuffix("*")),
                                                  action, now)]
        dossiers, records = lent_objects(patterns)
        return Reach(units, levels, dossiers, records)


def unit_reaches_grant(request_unit_path: str, grant_unit_path: str) -> bool:
    """Casbin domain matcher: a grant on a unit answers for the unit and its subtree."""
    return request_unit_path.startswith(grant_unit_path)
