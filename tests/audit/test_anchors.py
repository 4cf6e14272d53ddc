"""Audit anchors in WORM storage: written every N events, every T seconds and at shutdown;
``archive verify`` reports the newest one and names a tail cut off after it."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from archive.app import create_app
from archive.cli import app as cli
from archive.db.session import make_engine, make_sessionmaker
from archive.services.audit import read_anchors
from storage import make_store
from tests.factories import cli_environment, login


def _head(settings) -> int:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        seq = conn.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one()
    engine.dispose()
    return seq


def test_a_tail_cut_after_the_shutdown_anchor_is_named(settings, monkeypatch) -> None:
    """GIVEN a service that wrote its last anchor as it shut down WHEN someone holding the
    database deletes the newest events and rewinds the head THEN ``archive verify`` fails,
    naming the events anchored but gone; before the cut it reports the anchor's age."""
    with TestClient(create_app(settings)) as client:
        for user in ("clerk", "clerk_gs", "archivist", "auditor"):
            client.get("/api/v1/auth/me", headers=login(client, user))
    head = _head(settings)
    store = make_store(settings.storage)
    assert max(a.seq for a in read_anchors(store)) == head  # written at shutdown

    cli_environment(monkeypatch, settings)
    intact = CliRunner().invoke(cli, ["verify"])
    output = " ".join(intact.output.split())
    assert intact.exit_code == 0, output
    assert f"newest anchor before this check: event {head}, written" in output
    assert "0 events after it" in output and f"anchored now at event {head}" in output

    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        kept = head - 3
        fourth = session.execute(sa.text("SELECT hash FROM audit_events WHERE seq = :s"),
                                 {"s": kept}).scalar_one()
        session.execute(sa.text("DELETE FROM audit_events WHERE seq > :s"), {"s": kept})
        session.execute(sa.text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                        {"s": kept, "h": fourth})
    engine.dispose()
    cut = CliRunner().invoke(cli, ["verify"])
    output = " ".join(cut.output.split())
    assert cut.exit_code == 1, output
    assert f"broken at event {kept + 1}" in output
    assert f"events {kept + 1}…" in output and "were anchored but are gone" in output


def test_anchors_follow_the_events_and_the_clock(settings) -> None:
    """Every N events an anchor comes within the check interval, without waiting for T."""
    from tests.factories import make_settings  # noqa: F401 - the fixture's own builder

    settings.audit.anchor_every_events = 5
    settings.audit.anchor_seconds = 3600.0
    store = make_store(settings.storage)
    with TestClient(create_app(settings)) as client:
        before = len(read_anchors(store))
        headers = login(client, "clerk")
        for _ in range(6):
            client.get("/api/v1/search", params={"q": "合同"}, headers=headers)
        deadline = time.monotonic() + 10
        while len(read_anchors(store)) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(read_anchors(store)) > before
