"""Ingest jobs: persistent in the database, claimed atomically, run by workers.

A job moves queued → running → done | failed. The claim is a conditional UPDATE, so two
workers never run the same job, and gives the worker a lease it renews while it works. If
the worker dies (SIGKILL, OOM, power) the lease runs out and another worker claims the
job again; after ``job_max_attempts`` claims it fails with its reason, so a file that kills
workers cannot do so forever. A failed attempt that may succeed later (storage, search or
OCR engine unavailable) waits with exponential backoff.

Nothing a retried job does is duplicated: the page text is replaced in one transaction,
the access copy is stored under a key derived from the original's sha256, and the index
entry is keyed by the record id.

In four parts: :mod:`.queries` (what readers see), :mod:`.claiming` (claims, leases,
attempts), :mod:`.pipeline` (one job as ordered steps) and :mod:`.runtime` (threads and
processes that run them).

Public surface: :func:`get_job`, :func:`list_jobs`, :func:`record_of`,
:func:`refused_records`, :class:`JobPolicy`, :func:`worker_name`, :func:`claim_next`,
:class:`JobContext`, :func:`run_job`, :class:`Worker` (a thread), :class:`WorkerPool`
(processes), :func:`start_workers`.
"""

from archive.services.jobs.claiming import JobPolicy, claim_next, worker_name
from archive.services.jobs.pipeline import JobContext, run_job
from archive.services.jobs.queries import get_job, list_jobs, record_of, refused_records
from archive.services.jobs.runtime import Worker, WorkerPool, start_workers

__all__ = ["JobContext", "JobPolicy", "Worker", "WorkerPool", "claim_next", "get_job",
           "list_jobs", "record_of", "refused_records", "run_job", "start_workers",
           "worker_name"]
