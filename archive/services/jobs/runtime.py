"""Where jobs run: :class:`Worker` (a thread that runs due jobs as its dispatcher brings
them — polling the database, or consuming Dramatiq messages — keeps the index caught up
and purges destroyed records' objects) and :class:`WorkerPool` (worker processes that end
with their parent, restarted when one dies).

Public surface: :class:`Worker`, :class:`WorkerPool`, :func:`start_workers`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable

from archive.services.disposition import purge_destroyed
from archive.services.indexing import index_pending, retry_refused
from archive.services.jobs.claiming import claim_next
from archive.services.jobs.dispatch import DatabaseDispatcher, Dispatcher
from archive.services.jobs.pipeline import JobContext, run_job
from archive.settings import Settings

log = logging.getLogger(__name__)




class Worker:
    """Runs due jobs in a background thread until stopped, and keeps the search index
    caught up with the outbox (waiting longer each time the backend is still away)."""

    MAX_INDEX_BACKOFF = 60.0
    SWEEP_EVERY = 5.0  # how often a broker's lost messages are looked for

    def __init__(self, ctx: JobContext, *, poll_seconds: float = 0.5,
                 dispatcher: Dispatcher | None = None) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.dispatcher = dispatcher or DatabaseDispatcher()
        if isinstance(self.dispatcher, DatabaseDispatcher):
            self.dispatcher.subscribe(self.notify)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._index_backoff = 0.0
        self._index_not_before = 0.0
        self._purge_not_before = 0.0
        self._sweep_not_before = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="ingest-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_pending(self) -> int:
        """Run due jobs until none is left (a polling dispatcher), or announce again those
        whose message was lost (a broker's); returns how many."""
        ran = 0
        if not self.dispatcher.polls and time.monotonic() >= self._sweep_not_before:
            self._sweep_not_before = time.monotonic() + self.SWEEP_EVERY
            ran = self.dispatcher.sweep(self.ctx)
        while self.dispatcher.polls and not self._stop.is_set() and (
                job_id := claim_next(self.ctx.sessions, self.ctx.policy, self.ctx.worker)):
            run_job(self.ctx, job_id)
            ran += 1
        self.catch_up_index()
        self.catch_up_purge()
        return ran

    PURGE_EVERY = 60.0

    def catch_up_purge(self) -> None:
        """Remove the objects of records destroyed while storage was away."""
        if time.monotonic() < self._purge_not_before:
            return
        self._purge_not_before = time.monotonic() + self.PURGE_EVERY
        purge_destroyed(self.ctx.sessions, self.ctx.store)

    def catch_up_index(self) -> None:
        if time.monotonic() < self._index_not_before:
            return
        if index_pending(self.ctx.sessions, self.ctx.search, holder=self.ctx.worker):
            self._index_backoff = 0.0
        else:
            self._index_backoff = min(self.MAX_INDEX_BACKOFF, max(1.0, 2 * self._index_backoff))
            self._index_not_before = time.monotonic() + self._index_backoff

    def loop(self) -> None:
        try:  # a fix may have come with this start: try the refused records again
            with self.ctx.sessions.begin() as session:
                retry_refused(session)
        except Exception:
            log.warning("refused records not queued again", exc_info=True)
        self.dispatcher.consume(self.ctx)  # a broker's messages: run in its own threads
        while not self._stop.is_set():
            try:
                if not self.run_pending():
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
            except Exception:  # database briefly unavailable: back off, keep running
                log.exception("ingest worker loop")
                self._stop.wait(5.0)


def _die_with_parent(parent: int, stop: Callable[[], None]) -> None:
    """End this process when the one that started it ends, even by SIGKILL: the kernel
    sends SIGTERM (Linux's parent-death signal), and a watch thread catches the rest (the
    parent gone before that was set, or another system)."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            log.warning("no parent-death signal; watching the parent instead")

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        log.warning("the archive's server is gone; this worker stops")
        stop()
        time.sleep(10)
        os._exit(1)  # a job still running after its stop: its lease runs out, it is retried

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_process(settings: Settings, parent: int) -> None:
    """One worker process: its own connections, object store, search client and engine;
    it ends with its parent."""
    import signal

    from archive import metrics
    from archive.backends import Backends

    assert settings.metrics_dir is not None
    metrics.configure(settings.metrics_dir)
    with Backends.open(settings) as backends:
        worker = Worker(backends.job_context(), poll_seconds=settings.worker_poll_seconds,
                        dispatcher=backends.dispatcher)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop(timeout=0))
        _die_with_parent(parent, lambda: worker.stop(timeout=0))
        try:
            worker.loop()
        finally:
            metrics.process_ended()


def start_workers(settings: Settings, ctx: JobContext,
                  dispatcher: Dispatcher | None = None) -> Worker | WorkerPool:
    """The workers the settings ask for: a thread (``worker_processes=0``) or processes."""
    if settings.worker_processes == 0:
        worker: Worker | WorkerPool = Worker(ctx, poll_seconds=settings.worker_poll_seconds,
                                             dispatcher=dispatcher)
    else:
        worker = WorkerPool(settings)
    worker.start()
    return worker


class WorkerPool:
    """N worker processes, restarted when one dies; each claims jobs on its own."""

    def __init__(self, settings: Settings, processes: int | None = None) -> None:
        self.settings = settings
        self.size = processes or settings.worker_processes or os.cpu_count() or 1
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None and p.is_alive()]

    def _spawn(self) -> multiprocessing.process.BaseProcess:
        process = self._context.Process(target=_worker_process,
                                        args=(self.settings, os.getpid()),
                                        name="archive-worker", daemon=True)
        process.start()
        return process

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.size)]
        self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                            name="worker-supervisor")
        self._supervisor.start()

    def notify(self) -> None:
        """Workers poll the database; nothing to wake."""

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            for i, process in enumerate(self._processes):
                if not process.is_alive() and not self._stop.is_set():
                    log.warning("worker %s exited with %s; starting another", process.pid,
                                process.exitcode)
                    self._processes[i] = self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join()
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                process.kill()
