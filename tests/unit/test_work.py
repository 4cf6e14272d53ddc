"""The unit of work: committed once, after-commit steps run only then (one that fails is
logged, the work stands), undo steps only when nothing was committed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.services.work import Work


class _Trail:
    def record(self, session, event, *, username=None) -> None:  # type: ignore[no-untyped-def]
        session.execute(sa.text("INSERT INTO t (v) VALUES (:v)"), {"v": event})


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (v TEXT UNIQUE)"))
    with Session(engine) as session:
        yield session


def _rows(session: Session) -> list[str]:
    return list(session.execute(sa.text("SELECT v FROM t ORDER BY v")).scalars())


def test_after_commit_steps_run_once_committed_and_a_failing_one_stands(session) -> None:
    ran: list[str] = []
    work = Work(session, _Trail())  # type: ignore[arg-type]
    work.record("a")  # type: ignore[arg-type]
    work.after_commit(lambda: ran.append(str(_rows(session))))
    work.after_commit(lambda: 1 / 0)
    work.after_commit(lambda: ran.append("after the failure"))
    work.unless_committed(lambda: ran.append("undone"))
    work.commit()
    assert ran == ["['a']", "after the failure"]


def test_undo_steps_run_when_the_commit_fails(session, monkeypatch) -> None:
    ran: list[str] = []
    work = Work(session, _Trail())  # type: ignore[arg-type]
    work.unless_committed(lambda: ran.append("undone"))
    work.after_commit(lambda: ran.append("after"))
    work.record("a")  # type: ignore[arg-type]

    def lost(*_args: object) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(session, "commit", lost)
    with pytest.raises(sa.exc.OperationalError):
        work.commit()
    assert ran == ["undone"] and _rows(session) == []
