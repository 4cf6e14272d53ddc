"""One unit of work: a session, the audit trail bound to the caller, and the steps to run
once it is committed (protect an original, purge a destroyed record's objects, index a
change at once). Routes get one from :data:`archive.deps.WorkDep`, which commits it when the
route returns, before the answer is sent, so no answer goes out without its committed
audit event; a route that raises commits nothing.

Public surface: :class:`Work`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from archive.services.audit import Event, Trail

log = logging.getLogger(__name__)


@dataclass
class Work:
    session: Session
    trail: Trail
    _after: list[Callable[[], None]] = field(default_factory=list)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def record(self, event: Event, *, username: str | None = None) -> None:
        """Append ``event`` to the audit chain in this unit's transaction."""
        self.trail.record(self.session, event, username=username)

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run ``step`` once the unit is committed. Steps are derived work the database
        already guarantees (an outbox row, a purge the worker loop retries): one that fails
        is logged, and the committed work stands."""
        self._after.append(step)

    def unless_committed(self, step: Callable[[], None]) -> None:
        """Run ``step`` if this unit is not committed (the route raised, or the commit
        failed): to remove what was written outside the database for it, such as an
        object in storage that no row would name."""
        self._undo.append(step)

    def abandon(self) -> None:
        self.session.rollback()
        steps, self._undo = self._undo, []
        for step in steps:
            try:
                step()
            except Exception:
                log.exception("undoing an uncommitted step failed")

    def commit(self) -> None:
        try:
            self.session.commit()
        except Exception:
            self.abandon()
            raise
        self._undo = []
        steps, self._after = self._after, []
        for step in steps:
            try:
                step()
            except Exception:  # see after_commit
                log.exception("an after-commit step failed; the worker loop catches up")
