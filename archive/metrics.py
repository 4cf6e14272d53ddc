"""Prometheus metrics of the archive's processes (prometheus-client in multiprocess mode):
the web server and every worker process on a host write their samples to files in one
folder (``ARCHIVE_METRICS_DIR``, default ``<data_dir>/metrics``), and a scrape of
``GET /api/v1/metrics`` reads them together with what the database says at that moment
(jobs by state, queue depth and age, overdue loans) and the broker's pending messages.

:func:`configure` must run before ``prometheus_client`` is first imported in a process
(its value store is chosen then): the app, the worker processes and the CLI call it first.
The first folder configured in a process is the one it keeps.

Public surface: :func:`configure`, :func:`observe_request`, :func:`observe_pages`,
:func:`lease_expired`, :func:`job_given_up`, :func:`chain_verified`, :func:`scrape`,
:func:`process_ended`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from archive.services.jobs.dispatch import Dispatcher

ENV = "PROMETHEUS_MULTIPROC_DIR"
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PAGE_SECONDS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)


def configure(directory: Path) -> Path:
    """Where this process's samples go (and Dramatiq's middleware's): set once."""
    chosen = Path(os.environ.setdefault(ENV, str(directory)))
    os.environ.setdefault("dramatiq_prom_db", str(chosen))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


@cache
def _series():  # type: ignore[no-untyped-def]
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "requests": Counter("archive_http_requests", "HTTP requests answered",
                            ["method", "route", "status"]),
        "latency": Histogram("archive_http_request_duration_seconds",
                             "Time to answer an HTTP request", ["method", "route"],
                             buckets=SECONDS),
        "pages": Counter("archive_pages_read", "Pages read, by engine (text-layer, "
                         "tesseract, rapidocr)", ["engine"]),
        "page_seconds": Histogram("archive_page_seconds", "Seconds to read one page",
                                  ["engine"], buckets=PAGE_SECONDS),
        "leases": Counter("archive_job_lease_expiries",
                          "Running jobs taken over after their worker's lease ran out"),
        "given_up": Counter("archive_jobs_given_up",
                            "Jobs failed for good (dead letters of the job table)", ["reason"]),
        "verified": Counter("archive_audit_verifications", "Audit chain verifications",
                            ["result"]),
        "verified_at": Gauge("archive_audit_last_verification_timestamp_seconds",
                             "When the chain was last verified, by result", ["result"],
                             multiprocess_mode="max"),
    }


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    series = _series()
    series["requests"].labels(method, route, str(status)).inc()
    series["latency"].labels(method, route).observe(seconds)


def observe_pages(pages: Iterable[tuple[str, float]]) -> None:
    """Each page read, by its engine, with its seconds."""
    series = _series()
    for engine, seconds in pages:
        series["pages"].labels(engine).inc()
        series["page_seconds"].labels(engine).observe(seconds)


def lease_expired() -> None:
    _series()["leases"].inc()


def job_given_up(reason: str) -> None:
    _series()["given_up"].labels(reason).inc()


def chain_verified(ok: bool) -> None:
    result = "ok" if ok else "broken"
    _series()["verified"].labels(result).inc()
    _series()["verified_at"].labels(result).set(time.time())


def process_ended() -> None:
    """A worker process ends: its live gauges leave the scrape."""
    if ENV in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


class _StateCollector:
    """What the database and the broker say at scrape time (the same on every host)."""

    def __init__(self, sessions: sessionmaker[Session], dispatcher: Dispatcher | None) -> None:
        self.sessions, self.dispatcher = sessions, dispatcher

    def collect(self):  # type: ignore[no-untyped-def]
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select

        from archive.clock import as_utc
        from archive.db.models import BorrowRequest, Job, utcnow
        from archive.services.borrowing import overdue_condition

        now = utcnow()
        jobs = GaugeMetricFamily("archive_jobs", "Jobs by state", labels=["state"])
        depth = GaugeMetricFamily("archive_queue_depth", "Jobs waiting for a worker",
                                  labels=["priority"])
        age = GaugeMetricFamily("archive_queue_oldest_age_seconds",
                                "Age of the oldest job waiting", labels=["priority"])
        overdue = GaugeMetricFamily("archive_loans_overdue", "Loans past their due date")
        with self.sessions() as session:
            counts = dict(session.execute(select(Job.status, func.count())
                                          .group_by(Job.status)).all())
            for state in ("queued", "running", "done", "failed"):
                jobs.add_metric([state], counts.get(state, 0))
            count, oldest = session.execute(select(func.count(), func.min(Job.created_at))
                                            .where(Job.status == "queued")).one()
            depth.add_metric(["normal"], count)
            age.add_metric(["normal"], 0.0 if oldest is None
                           else max(0.0, (now - as_utc(oldest)).total_seconds()))
            overdue.add_metric([], session.scalar(select(func.count()).select_from(
                BorrowRequest).where(overdue_condition(now))) or 0)
        yield from (jobs, depth, age, overdue)
        if self.dispatcher is not None and not self.dispatcher.polls:
            pending = GaugeMetricFamily("archive_broker_pending_messages",
                                        "Messages on the broker not yet acknowledged")
            try:
                pending.add_metric([], self.dispatcher.pending())  # type: ignore[attr-defined]
            except Exception:  # the broker is away: the series is missing, not wrong
                return
            yield pending


def scrape(sessions: sessionmaker[Session], dispatcher: Dispatcher | None) -> tuple[bytes, str]:
    """The text of a scrape: every process's samples on this host, and the state."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if ENV in os.environ:
        MultiProcessCollector(registry)
    registry.register(_StateCollector(sessions, dispatcher))
    return generate_latest(registry), CONTENT_TYPE_LATEST
