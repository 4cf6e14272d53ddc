"""Per-user rate limits (限流), so no one can use a query as an oracle at machine speed.

A limit is a string of the ``limits`` library, e.g. ``"30/10seconds;1200/hour"``: a moving
window per user, every window of the string enforced. The first refusal of a burst is
audited (then no more until the user is let through again), so a flood shows in the log
as one event, not as thousands. The counters live in this process; several web processes
each count on their own.

Public surface: :class:`Throttle`, :class:`Verdict`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from limits import parse_many, storage, strategies


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds, when refused
    first_refusal: bool = False  # the first of a burst: to be audited


class Throttle:
    def __init__(self, name: str, limits: str) -> None:
        self.name = name
        self.limits = limits
        self._items = parse_many(limits) if limits.strip() else []
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._lock = threading.Lock()
        self._refusing: set[str] = set()

    def take(self, who: str) -> Verdict:
        """Count one request of ``who`` if every window has room; else refuse."""
        if not self._items:
            return Verdict(True)
        with self._lock:
            full = [item for item in self._items
                    if not self._limiter.test(item, self.name, who)]
            if not full:
                for item in self._items:
                    self._limiter.hit(item, self.name, who)
                self._refusing.discard(who)
                return Verdict(True)
            reset = max(self._limiter.get_window_stats(item, self.name, who).reset_time
                        for item in full)
            first = who not in self._refusing
            self._refusing.add(who)
        return Verdict(False, max(1, math.ceil(reset - time.time())), first)
