"""The one place that builds the backends: :meth:`Backends.open` gives the database engine
and sessions, the object store, the search backend, the Casbin authoriser, the audit key
and the clock, and closes what it opened when its block ends. The web app's lifespan, the
worker processes and every CLI command open them here; nothing else constructs them.

Search and the authoriser are built on first use, so a command that needs neither (such
as ``migrate``, before the policy tables exist) does not build them.

Public surface: :class:`Backends`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.clock import Clock
from archive.db.session import make_engine, make_sessionmaker
from archive.settings import Settings
from policies import CasbinAuthorizer
from search import SearchBackend, make_search
from storage import ObjectStore, make_store

if TYPE_CHECKING:
    from archive.services.jobs import JobContext
    from archive.services.jobs.dispatch import Dispatcher


@dataclass
class Backends:
    settings: Settings
    engine: Engine
    store: ObjectStore
    clock: Clock = field(default_factory=Clock)

    @classmethod
    @contextmanager
    def open(cls, settings: Settings) -> Iterator[Backends]:
        """The backends the settings name, closed (connections, clients) on exit."""
        backends = cls(settings, make_engine(settings.database_url),
                       make_store(settings.storage))
        try:
            yield backends
        finally:
            if "dispatcher" in backends.__dict__:
                backends.dispatcher.close()
            if "search" in backends.__dict__:
                backends.search.close()
            backends.engine.dispose()

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @cached_property
    def search(self) -> SearchBackend:
        return make_search(self.settings.search)

    @cached_property
    def authorizer(self) -> CasbinAuthorizer:
        return CasbinAuthorizer(self.engine, clock=self.clock.now)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """How jobs reach workers: the database polled, or Dramatiq on Redis."""
        from archive.services.jobs.dispatch import make_dispatcher

        return make_dispatcher(self.settings.dispatch)

    @property
    def audit_key(self) -> bytes:
        return self.settings.audit.key

    def job_context(self) -> JobContext:
        """What a worker needs, over these backends."""
        from archive.services.jobs import JobContext

        return JobContext.of(self.settings, sessions=self.sessions, store=self.store,
                             search=self.search, authorizer=self.authorizer)
