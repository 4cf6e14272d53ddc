"""The audit trail: append-only, hash-chained events, verified and anchored.

Every event holds ``hash = HMAC-SHA256(key, prev_hash + "\\n" + canonical JSON of the
event)``, where the key lives outside the database (settings), so whoever holds the database
can neither edit, delete, insert nor reorder events without ``verify`` naming the first bad
one. The newest (seq, hash) is kept in the single ``audit_head`` row, whose row lock
serialises appends; anchors written to object storage under Object Lock retention in
compliance mode (every N events, every T seconds while the chain moves, and at shutdown),
each under a key naming the seq and hash it anchors, catch a cut-off tail that a database
holder could otherwise hide by rewinding the head, and a chain rewritten by someone who
also holds the key (its events differ from their anchors). On the filesystem store the
anchors are as safe as the data folder is; production keeps them on MinIO.

An event is appended inside the caller's transaction, so a change and its event commit or
roll back together.

Public surface: :func:`append`, :func:`verify`, :class:`Verification`, :func:`anchor`,
:class:`Event`, :class:`Trail` (the trail bound to one caller), :class:`Anchor`,
:func:`read_anchors`, :class:`Anchorer`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from archive.db.models import AuditEvent, AuditHead, utcnow
from archive.services.access import Actor
from storage import ObjectLocked, ObjectNotFound, ObjectStore

GENESIS = "0" * 64
log = logging.getLogger(__name__)
_VERIFY_BATCH = 1000


@dataclass(frozen=True)
class Event:
    """What happened, as the services describe it."""

    action: str
    object_type: str = ""
    object_id: str = ""
    decision: str = "allow"
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _canonical(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def _payload(row: AuditEvent) -> str:
    return _canonical({
        "seq": row.seq, "at": _iso(row.at), "actor": row.actor, "role": row.role,
        "unit": row.unit, "action": row.action, "object_type": row.object_type,
        "object_id": row.object_id, "decision": row.decision, "reason": row.reason,
        "client": row.client, "details": row.details,
    })


def _iso(at: datetime) -> str:
    # SQLite returns naive datetimes; the chain is computed over UTC without offset.
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def _mac(key: bytes, prev_hash: str, payload: str) -> str:
    return hmac.new(key, f"{prev_hash}\n{payload}".encode(), hashlib.sha256).hexdigest()


def append(
    session: Session, *, key: bytes, actor: Actor | None, event: Event, client: str = "",
    username: str | None = None,
) -> AuditEvent:
    """Add one event to the chain in the session's transaction (the caller commits).

    Nearly every request ends here, so the three statements go through Core on the
    session's connection: the ORM's unit of work cost more than the statements.
    """
    connection = session.connection()
    head = connection.execute(select(AuditHead.seq, AuditHead.hash)
                              .where(AuditHead.id == 1).with_for_update()).one()
    row = AuditEvent(
        seq=head.seq + 1, at=utcnow(),
        actor=actor.username if actor else (username or "-"),
        role=actor.role if actor else "-", unit=actor.unit_code if actor else "-",
        action=event.action, object_type=event.object_type, object_id=event.object_id,
        decision=event.decision, reason=event.reason[:2000], client=client[:64],
        details=_canonical(event.details), prev_hash=head.hash, hash="",
    )
    row.hash = _mac(key, head.hash, _payload(row))
    connection.execute(insert(AuditEvent.__table__).values(
        {column.key: getattr(row, column.key) for column in AuditEvent.__table__.columns}))
    connection.execute(update(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)
                       .values(seq=row.seq, hash=row.hash))
    return row


class Trail:
    """The audit trail as a route sees it: bound to the caller and their address."""

    def __init__(self, key: bytes, actor: Actor | None, client: str) -> None:
        self.key = key
        self.actor = actor
        self.client = client

    def record(self, session: Session, event: Event, *, username: str | None = None) -> None:
        """Append ``event`` in ``session``'s transaction; the caller commits."""
        append(session, key=self.key, actor=self.actor, event=event, client=self.client,
               username=username)


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str = ""


def _rows(session: Session) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = session.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                                .order_by(AuditEvent.seq).limit(_VERIFY_BATCH)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def verify(session: Session, *, key: bytes, anchors: Iterable[Anchor] = ()) -> Verification:
    """Walk the chain and name the first event that was edited, deleted, inserted or moved,
    or cut off after an anchor."""
    expected_seq, prev, count = 1, GENESIS, 0
    anchored: dict[int, set[str]] = {}
    for found in anchors:
        anchored.setdefault(found.seq, set()).add(found.hash)
    for row in _rows(session):
        count += 1
        if row.seq != expected_seq:
            problem = (f"event {expected_seq} is missing" if row.seq > expected_seq
                       else f"event {row.seq} is out of order")
            return Verification(False, count, expected_seq, problem)
        if row.prev_hash != prev:
            return Verification(False, count, row.seq,
                                f"event {row.seq} does not follow event {row.seq - 1}")
        if not hmac.compare_digest(row.hash, _mac(key, prev, _payload(row))):
            return Verification(False, count, row.seq, f"event {row.seq} was altered")
        if row.seq in anchored and anchored[row.seq] != {row.hash}:
            return Verification(False, count, row.seq,
                                f"event {row.seq} differs from its anchor")
        prev, expected_seq = row.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    last = expected_seq - 1
    if head is None or head.seq != last or head.hash != prev:
        return Verification(False, count, last + 1,
                            f"the chain ends at event {last} but its head says "
                            f"{head.seq if head else 'nothing'}")
    beyond = [seq for seq in anchored if seq > last]
    if beyond:
        return Verification(False, count, last + 1,
                            f"events {last + 1}…{max(beyond)} were anchored but are gone")
    return Verification(True, count)


ANCHORS = "audit-anchors/"
_ANCHOR_KEY = re.compile(r"^audit-anchors/(\d{12})-([0-9a-f]{64})\.json$")


@dataclass(frozen=True)
class Anchor:
    """A chain head written to WORM storage: its seq and hash, and when."""

    seq: int
    hash: str
    at: datetime | None = None


def anchor_key(seq: int, head_hash: str) -> str:
    """An anchor's key names what it anchors, so it is never overwritten by another."""
    return f"{ANCHORS}{seq:012d}-{head_hash}.json"


def anchor(session: Session, store: ObjectStore, *, retain_days: int = 3650,
           compliance: bool = True) -> Anchor:
    """Write the chain's head to object storage under Object Lock retention (compliance
    mode: nobody, the application included, removes it before ``retain_days``)."""
    head = session.get(AuditHead, 1)
    assert head is not None
    now = utcnow()
    key = anchor_key(head.seq, head.hash)
    if not store.exists(key):  # another process anchored this very head already
        body = _canonical({"seq": head.seq, "hash": head.hash, "at": now.isoformat()})
        try:
            store.put(key, io.BytesIO(body.encode()), content_type="application/json")
        except ObjectLocked:  # written meanwhile by another process, and locked
            return Anchor(head.seq, head.hash, now)
        store.set_retention(key, now + timedelta(days=retain_days), compliance=compliance)
    return Anchor(head.seq, head.hash, now)


def newest(anchors: Iterable[Anchor]) -> Anchor | None:
    """The anchor of the latest event: what came after it a database holder could still
    cut unseen."""
    return max(anchors, key=lambda a: a.seq, default=None)


def read_anchors(store: ObjectStore) -> list[Anchor]:
    """Every anchor written so far, oldest first. The key is what counts: it names the
    seq and hash; a body that disagrees with its key is an anchor of both."""
    found = []
    for key in store.keys(ANCHORS):
        try:
            with store.get(key) as stream:
                body = json.loads(stream.read())
        except ObjectNotFound:  # removed between listing and reading
            continue
        except ValueError:
            body = {}
        at = None
        with contextlib.suppress(KeyError, TypeError, ValueError):
            at = datetime.fromisoformat(body["at"])
        named = _ANCHOR_KEY.match(key)
        if named:
            found.append(Anchor(int(named.group(1)), named.group(2), at))
        if "seq" in body and "hash" in body and (
                not named or (int(body["seq"]), str(body["hash"])) != (
                    int(named.group(1)), named.group(2))):
            found.append(Anchor(int(body["seq"]), str(body["hash"]), at))
    return sorted(found, key=lambda a: a.seq)


class Anchorer:
    """Anchors the chain head in object storage every ``every_events`` events, at least
    every ``interval`` seconds while it moves, and once more at shutdown."""

    def __init__(self, sessions, store: ObjectStore, interval: float,  # type: ignore[no-untyped-def]
                 *, every_events: int = 1000, retain_days: int = 3650,
                 compliance: bool = True) -> None:
        self.sessions = sessions
        self.store = store
        self.interval = interval
        self.every_events = every_events
        self.retain_days = retain_days
        self.compliance = compliance
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_seq = -1
        self._last_at = time.monotonic()

    def _head_seq(self) -> int | None:
        with self.sessions() as session:
            head = session.get(AuditHead, 1)
            return head.seq if head is not None else None

    def anchor_now(self) -> None:
        with self.sessions() as session:
            head = session.get(AuditHead, 1)
            if head is None or head.seq == self._last_seq:
                return
            anchored = anchor(session, self.store, retain_days=self.retain_days,
                              compliance=self.compliance)
        self._last_seq, self._last_at = anchored.seq, time.monotonic()

    def due(self) -> bool:
        seq = self._head_seq()
        if seq is None or seq == self._last_seq:
            return False
        return (seq - max(self._last_seq, 0) >= self.every_events
                or time.monotonic() - self._last_at >= self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="audit-anchor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:  # a last anchor on the way out, if storage is reachable
            self.anchor_now()
        except Exception:
            log.exception("the audit anchor at shutdown failed")

    def _loop(self) -> None:
        poll = min(self.interval, 2.0)
        while not self._stop.wait(poll):
            try:
                if self.due():
                    self.anchor_now()
            except Exception:  # storage briefly down: try again next round
                log.exception("audit anchor failed")
