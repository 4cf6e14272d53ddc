"""A process killed between a change and its commit leaves neither the change nor its event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from archive.db.migrate import upgrade
from archive.db.session import make_engine, make_sessionmaker
from archive.services.accounts import add_unit, add_user, ensure_root_unit
from archive.services.audit import verify
from tests.factories import postgres_database

KEY = "k" * 32

CHILD = textwrap.dedent("""
    import os, signal, sys
    from archive.db.session import make_engine, make_sessionmaker
    from archive.services.accounts import actor_for
    from archive.services.audit import Event, Trail
    from archive.services.filing import create_customer
    from policies import CasbinAuthorizer

    engine = make_engine(sys.argv[1])
    sessions = make_sessionmaker(engine)
    session = sessions()
    actor = actor_for(session, "archivist", CasbinAuthorizer(engine))
    create_customer(session, actor=actor, account="3300099999", name="张伟",
                    customer_class="低压", unit="hz")
    Trail(sys.argv[2].encode(), actor, "test").record(
        session, Event("customer:create", "customer", "3300099999"))
    session.flush()  # both rows are written in the open transaction…
    os.kill(os.getpid(), signal.SIGKILL)  # …and the process dies before COMMIT
""")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    with postgres_database() as pg:
        yield pg


def test_killed_before_commit_leaves_nothing(url) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        ensure_root_unit(session, code="root", name="供电公司")
        add_unit(session, code="hz", name="杭州供电公司", parent_code="root")
        add_user(session, username="archivist", password="long-enough-pw", role="archivist",
                 unit_code="hz")
    child = subprocess.run([sys.executable, "-c", CHILD, url, KEY], capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert child.returncode == -signal.SIGKILL, child.stderr
    with sessions() as session:
        assert session.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == 0
        assert session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one() == 0
        assert verify(session, key=KEY.encode()).ok
    # …and the database is usable afterwards: the next change commits with its event.
    from archive.services.accounts import actor_for
    from archive.services.audit import Event, Trail
    from archive.services.filing import create_customer
    from policies import CasbinAuthorizer

    with sessions.begin() as session:
        actor = actor_for(session, "archivist", CasbinAuthorizer(engine))
        create_customer(session, actor=actor, account="3300099999", name="张伟",
                        customer_class="低压", unit="hz")
        Trail(KEY.encode(), actor, "test").record(session, Event("customer:create"))
    with sessions() as session:
        assert verify(session, key=KEY.encode()).events == 1
    engine.dispose()
