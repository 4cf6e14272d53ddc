"""The audit chain on SQLite and PostgreSQL: tampering directly in the database is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from archive.db.migrate import upgrade
from archive.db.models import AuditEvent
from archive.db.session import make_engine, make_sessionmaker
from archive.services.access import Actor
from archive.services.audit import Event, anchor, append, read_anchors, verify
from policies import CasbinAuthorizer
from storage import ObjectLocked
from storage.filesystem import FilesystemStore
from storage.settings import FilesystemSettings
from tests.factories import postgres_database

KEY = b"k" * 32
ACTOR = Actor(user_id=1, username="clerk", role="staff", unit_code="xh",
              unit_path="/root/hz/xh/", clearance="内部", authorizer=CasbinAuthorizer())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def sessions(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
        upgrade(engine)
        yield make_sessionmaker(engine)
        engine.dispose()
        return
    with postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        yield make_sessionmaker(engine)
        engine.dispose()


def fill(sessions, count: int = 6) -> None:
    for n in range(1, count + 1):
        with sessions.begin() as session:
            append(session, key=KEY, actor=ACTOR, client="127.0.0.1",
                   event=Event("record:read", "record", f"r{n}", details={"n": n, "q": "窃电"}))


def check(sessions, **kwargs):
    with sessions() as session:
        return verify(session, key=KEY, **kwargs)


def sql(sessions, statement: str, **params) -> None:
    with sessions.begin() as session:
        session.execute(sa.text(statement), params)


def test_intact_chain_verifies(sessions) -> None:
    fill(sessions)
    result = check(sessions)
    assert (result.ok, result.events, result.first_bad_seq) == (True, 6, None)


def test_rolled_back_change_leaves_no_event(sessions) -> None:
    fill(sessions, 2)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        append(session, key=KEY, actor=ACTOR, event=Event("customer:create"))
        raise RuntimeError("the change failed")
    assert check(sessions).events == 2 and check(sessions).ok


def test_edited_event_is_named(sessions) -> None:
    fill(sessions)
    sql(sessions, "UPDATE audit_events SET actor = 'someone' WHERE seq = 4")
    result = check(sessions)
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "altered" in result.problem


def test_edited_details_are_named(sessions) -> None:
    fill(sessions)
    sql(sessions, "UPDATE audit_events SET details = :d WHERE seq = 2", d='{"n":2,"q":"无"}')
    assert check(sessions).first_bad_seq == 2


def test_deleted_event_is_named(sessions) -> None:
    fill(sessions)
    sql(sessions, "DELETE FROM audit_events WHERE seq = 3")
    result = check(sessions)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "missing" in result.problem


def test_inserted_event_is_named(sessions) -> None:
    """GIVEN an event forged between 3 and 4 by renumbering the tail
    WHEN verified THEN the forged event (new 4) is named: its hash cannot be made without
    the key."""
    fill(sessions)
    sql(sessions, "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4")
    sql(sessions, "UPDATE audit_events SET seq = seq - 99 WHERE seq >= 100")
    with sessions() as session:
        third = session.execute(
            sa.text("SELECT * FROM audit_events WHERE seq = 3")).mappings().one()
    forged = dict(third)
    forged.update(seq=4, object_id="forged", prev_hash=third["hash"], hash="f" * 64)
    columns = ", ".join(forged)
    sql(sessions, f"INSERT INTO audit_events ({columns}) VALUES "  # noqa: S608
                  f"({', '.join(':' + c for c in forged)})", **forged)
    result = check(sessions)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_reordered_events_are_named(sessions) -> None:
    fill(sessions)
    sql(sessions, "UPDATE audit_events SET seq = 100 WHERE seq = 2")
    sql(sessions, "UPDATE audit_events SET seq = 2 WHERE seq = 5")
    sql(sessions, "UPDATE audit_events SET seq = 5 WHERE seq = 100")
    result = check(sessions)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_cut_tail_is_caught_by_the_head_and_by_anchors(sessions, tmp_path) -> None:
    store = FilesystemStore(FilesystemSettings(root=tmp_path / "objects"))
    fill(sessions)
    with sessions() as session:
        anchored = anchor(session, store)
        assert (anchored.seq, anchored.hash) == (6, session.execute(
            sa.text("SELECT hash FROM audit_events WHERE seq = 6")).scalar_one())
    sql(sessions, "DELETE FROM audit_events WHERE seq >= 5")
    assert check(sessions).first_bad_seq == 5  # the head still says 6
    # Whoever holds the database also rewinds the head…
    with sessions() as session:
        fourth = session.execute(
            sa.text("SELECT hash FROM audit_events WHERE seq = 4")).scalar_one()
    sql(sessions, "UPDATE audit_head SET seq = 4, hash = :h WHERE id = 1", h=fourth)
    assert check(sessions).ok  # …and the database alone can no longer tell,
    result = check(sessions, anchors=read_anchors(store))  # but the anchor can
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "anchored" in result.problem


def test_an_anchor_is_locked_and_named_by_what_it_anchors(sessions, tmp_path) -> None:
    store = FilesystemStore(FilesystemSettings(root=tmp_path / "objects"))
    fill(sessions, 2)
    with sessions() as session:
        made = anchor(session, store)
        assert anchor(session, store).seq == 2  # the same head again: one anchor
    [key] = store.keys("audit-anchors/")
    assert key == f"audit-anchors/000000000002-{made.hash}.json"
    with store.get(key) as stream:
        assert b'"seq":2' in stream.read()
    locks = store.locks(key)
    assert locks.compliance and locks.retain_until > datetime.now(UTC) + timedelta(days=3000)
    with pytest.raises(ObjectLocked):
        store.delete(key, governance_bypass=True)
    [read] = read_anchors(store)
    assert (read.seq, read.hash) == (2, made.hash) and read.at is not None


def test_a_chain_rewritten_with_the_key_differs_from_its_anchors(sessions, tmp_path) -> None:
    """GIVEN an anchored chain WHEN someone holding the database and the key rewrites an
    event and re-signs every later one THEN the chain verifies by itself, but not against
    the anchor, which no one could remove."""
    from archive.services.audit import _mac, _payload

    store = FilesystemStore(FilesystemSettings(root=tmp_path / "objects"))
    fill(sessions, 4)
    with sessions() as session:
        anchor(session, store)
    with sessions.begin() as session:
        prev = session.execute(sa.text("SELECT hash FROM audit_events WHERE seq = 1")
                               ).scalar_one()
        for row in session.scalars(sa.select(AuditEvent).where(AuditEvent.seq >= 2)
                                   .order_by(AuditEvent.seq)):
            if row.seq == 2:
                row.object_id = "rewritten"
            row.prev_hash = prev
            row.hash = prev = _mac(KEY, prev, _payload(row))
        session.execute(sa.text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    assert check(sessions).ok
    result = check(sessions, anchors=read_anchors(store))
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "anchor" in result.problem
