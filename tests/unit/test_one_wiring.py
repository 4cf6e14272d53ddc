"""One place builds the backends (:class:`archive.backends.Backends`): no other module of
the application constructs an engine, store, search backend or authoriser."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "archive"
BUILDERS = re.compile(r"\b(?:make_store|make_search|make_sessionmaker|CasbinAuthorizer)\(|"
                      r"\bdb\.session import make_engine|\bmake_engine\(\w*\.?database_url")


def test_only_backends_builds_the_backends() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ("backends.py", "db/session.py", "db/migrations/env.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if BUILDERS.search(line):
                found.append(f"archive/{relative}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)


QUERIES = re.compile(r"\bselect\(|\.scalars?\(|\.execute\(|\.commit\(\)|\.rollback\(\)|"
                     r"\.record\(|\bEvent\(|sessions\.begin\(")


def test_routes_hold_no_queries_and_commit_nothing() -> None:
    """Routes call services, which record their own audit events; the request's unit of
    work commits (archive.deps.WorkDep)."""
    found = []
    for path in sorted((ROOT / "routes").glob("*.py")):
        if path.name == "health.py":  # the readiness probe asks the database itself
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if QUERIES.search(line):
                found.append(f"archive/routes/{path.name}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)
