"""The time the archive's rules are measured against (loan periods, later retention).

One :class:`Clock` per application, read through ``now()``. Tests move it forward with
``advance`` instead of waiting; nothing else does. :func:`as_utc` reads a stored moment.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive ones; every time
    the archive stores is UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._offset += by
