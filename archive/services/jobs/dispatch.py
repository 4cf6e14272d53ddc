"""How jobs reach workers, behind one small protocol (:class:`Dispatcher`):

- :class:`DatabaseDispatcher` (the embedded default, one machine, no server): workers poll
  the database for due jobs (:func:`~.claiming.claim_next`); announcing a job wakes the
  workers of this process at once.
- :class:`DramatiqDispatcher` (many machines): announcing a job sends a Dramatiq message
  on Redis carrying its id; any ``archive worker`` consumes it. Dramatiq acknowledges a
  message only once it is processed, and requeues the messages of a worker that died.

Either way the database is the record of every job: a message carries nothing but the
job's id, and :func:`~.claiming.claim` fences duplicates, so a message delivered twice
does nothing twice. A message that finds its job not yet due (backoff, another worker's
live lease) sends itself again for then; a job whose message was lost (sent while Redis
was down, or Redis lost it) is announced again by the sweep of any worker.

Public surface: :class:`Dispatcher`, :class:`DatabaseDispatcher`,
:class:`DramatiqDispatcher`, :func:`make_dispatcher`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from archive.services.jobs.claiming import claim, unattended
from archive.settings import DispatchSettings

if TYPE_CHECKING:
    from archive.services.jobs.pipeline import JobContext

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    #: workers of this dispatcher find due jobs by asking the database themselves
    polls: bool

    def announce(self, job_ids: Sequence[str]) -> None:
        """These jobs are committed and queued: get them to a worker. Never raises for
        the broker: a job not announced now is announced by the next sweep."""

    def consume(self, ctx: JobContext) -> None:
        """Start running the announced jobs in this process (threads), with ``ctx``."""

    def sweep(self, ctx: JobContext) -> int:
        """Announce again the due jobs no worker has taken; how many."""

    def close(self) -> None:
        """Stop consuming; let go of the broker."""


class DatabaseDispatcher:
    """Workers poll the database; announcing wakes those of this process."""

    polls = True

    def __init__(self) -> None:
        self._wakers: list[Callable[[], None]] = []

    def subscribe(self, wake: Callable[[], None]) -> None:
        self._wakers.append(wake)

    def announce(self, job_ids: Sequence[str]) -> None:
        for wake in list(self._wakers):
            wake()

    def consume(self, ctx: JobContext) -> None:
        """Nothing to start: the worker's own loop claims due jobs."""

    def sweep(self, ctx: JobContext) -> int:
        return 0  # a polling worker finds every due job by itself

    def close(self) -> None:
        self._wakers.clear()


class DramatiqDispatcher:
    """Dramatiq on Redis: one queue of job ids in ``namespace``, consumed by any worker.

    Dramatiq's own retries (with backoff) cover an exception that escapes a job — the
    database away mid-job; the job's attempts, leases and backoff stay the database's."""

    polls = False
    ACTOR = "ingest_job"
    QUEUE = "ingest"

    def __init__(self, settings: DispatchSettings) -> None:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker
        from dramatiq.middleware import default_middleware
        from dramatiq.middleware.prometheus import Prometheus

        self.settings = settings
        # Dramatiq's own series (messages, errors, retries, dead letters, durations) land in
        # the metrics folder of this host beside the archive's (archive.metrics.configure)
        self.broker = RedisBroker(url=settings.redis_url.get_secret_value(),
                                  namespace=settings.namespace,
                                  middleware=[m() for m in default_middleware] + [Prometheus()])
        self.broker.emit_after("process_boot")
        self._ctx: JobContext | None = None
        self._worker: dramatiq.Worker | None = None
        self._lock = threading.Lock()
        self.actor = dramatiq.Actor(
            self._run, broker=self.broker, actor_name=self.ACTOR, queue_name=self.QUEUE,
            priority=0, options={
                "max_retries": 10, "min_backoff": 1_000, "max_backoff": 300_000,
                "time_limit": int(settings.time_limit_seconds * 1000),
            })

    def announce(self, job_ids: Sequence[str], *, delay: float | None = None) -> None:
        for job_id in job_ids:
            try:
                self.actor.send_with_options(
                    args=(job_id,), delay=None if delay is None else int(delay * 1000))
            except _broker_errors():
                log.warning("Redis unavailable: job %s waits for the next sweep", job_id)
                return

    def consume(self, ctx: JobContext) -> None:
        import dramatiq

        with self._lock:
            if self._worker is not None:
                return
            self._ctx = ctx
            # one thread: a worker process holds one OCR engine; more cores, more processes
            self._worker = dramatiq.Worker(self.broker, worker_threads=1, worker_timeout=250)
            self._worker.start()

    def _run(self, job_id: str) -> None:
        from archive.services.jobs.pipeline import run_job

        ctx = self._ctx
        assert ctx is not None, "a message reached a dispatcher that does not consume"
        while (found := claim(ctx.sessions, job_id, ctx.policy, ctx.worker)).claimed:
            run_job(ctx, job_id)  # then: done, failed, or queued again after a backoff
        if found.wait is not None:  # its backoff, or another worker's lease: look then
            self.announce([job_id], delay=found.wait + 0.5)

    def pending(self) -> int:
        """Messages in Redis not yet acknowledged: queued, delayed, or being run."""
        return int(self.broker.do_qsize(self.QUEUE))

    def sweep(self, ctx: JobContext) -> int:
        """A job whose worker died shows as running under an expired lease: announced
        again at once (Dramatiq would requeue its message too, but only once its own
        heartbeat check comes round). A job whose message is lost shows as due and
        untouched while Redis holds no message at all (with a backlog queued, each job's
        message is still there)."""
        try:
            quiet = self.pending() == 0
        except _broker_errors():
            return 0
        found = unattended(ctx.sessions, queued_for=timedelta(
            seconds=self.settings.sweep_seconds) if quiet else None)
        if found:
            log.info("announcing %d unattended jobs again", len(found))
            self.announce(found)
        return len(found)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop(timeout=10_000)
                self._worker = None
        self.broker.close()


def _broker_errors() -> tuple[type[Exception], ...]:
    """What Redis being away raises, through Dramatiq or straight from redis-py."""
    import dramatiq.errors
    import redis.exceptions

    return (dramatiq.errors.BrokerConnectionError, redis.exceptions.RedisError, OSError)


def make_dispatcher(settings: DispatchSettings) -> Dispatcher:
    if settings.backend == "dramatiq":
        return DramatiqDispatcher(settings)
    return DatabaseDispatcher()
