"""The FastAPI application: ``create_app`` wires settings, backends, routes and errors.

The lifespan builds the database engine, object store, search backend, Casbin authorizer
and the embedded ingest worker once; routes reach them through :mod:`archive.deps`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from archive import metrics
from archive.backends import Backends
from archive.deps import client_address
from archive.errors import ArchiveError, IntegrityFault, RateLimited
from archive.middleware import (
    RequestGuard,
    RequestMetrics,
    SecurityHeaders,
    error_response,
    security_headers,
)
from archive.routes import (
    accounts,
    audit,
    auth,
    borrowing,
    customers,
    disposition,
    dossiers,
    health,
    inbox,
    jobs,
    policies,
    records,
    retention,
    search,
    transfers,
)
from archive.routes import metrics as metrics_route
from archive.services.audit import Anchorer, Event, Trail
from archive.services.jobs import start_workers
from archive.services.logins import HashTimer, LoginThrottle
from archive.services.masking import mask_free_text, shown_to
from archive.services.throttle import Throttle
from archive.settings import Settings, get_settings
from archive.spool import sweep
from archive.webapp import mount_web

log = logging.getLogger(__name__)
API = "/api/v1"


def _audit_denial(request: Request, exc: ArchiveError) -> None:
    """A refused request leaves an event of its own, committed apart from the request's
    rolled-back work."""
    actor = getattr(request.state, "actor", None)
    audited = exc.status in (403, 404) or (isinstance(exc, RateLimited) and exc.audit)
    if actor is None or not audited:
        return
    state = request.app.state
    with state.sessions.begin() as session:
        Trail(state.audit_key, actor, client_address(request)).record(session, Event(
            action=f"{request.method} {_route_template(request)}"[:96], decision="deny",
            reason=exc.detail, object_type="path", object_id=request.url.path[-64:]))


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)


def _register_errors(app: FastAPI) -> None:
    @app.exception_handler(ArchiveError)
    def archive_error(request: Request, exc: ArchiveError) -> JSONResponse:
        _audit_denial(request, exc)
        # a detail may quote free text (a hold's reason): masked as any answer is
        actor = getattr(request.state, "actor", None)
        detail = (shown_to(actor, actor.unit_path).text(exc.detail) if actor is not None
                  else mask_free_text(exc.detail))
        return error_response(exc.status, exc.code, detail, exc.headers(), **exc.extra())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors())
        return error_response(422, "invalid_input", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"),
                              str(exc.detail))

    @app.exception_handler(ClientDisconnect)
    async def gone(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client left mid-upload: nothing to answer, nothing was accepted
        log.info("client disconnected before its request was read")
        return error_response(400, "client_disconnected", "the request was not received whole")

    @app.exception_handler(OperationalError)
    def database_away(request: Request, exc: OperationalError) -> JSONResponse:
        # locked past its busy timeout, connection refused or dropped: retryable
        log.warning("database unavailable: %s", exc.orig)
        return error_response(503, "backend_unavailable",
                              "the database is unavailable or busy; try again shortly",
                              {"Retry-After": "5"})

    @app.exception_handler(IntegrityError)
    def constraint_broken(request: Request, exc: IntegrityError) -> JSONResponse:
        # services check what a client can cause (duplicates, conflicts) before writing;
        # a constraint that still breaks is a fault of the archive, with an id for the log
        fault = IntegrityFault(f"database constraint: {exc.orig}")
        return error_response(fault.status, fault.code, fault.detail, **fault.extra())

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "unexpected error; see the server log",
                              security_headers(api=request.url.path.startswith(API)))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    assert settings.metrics_dir is not None
    metrics.configure(settings.metrics_dir)  # before any metric exists in this process

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweep(settings.data_dir / "spool")  # what a process that died left there
        with Backends.open(settings) as backends:
            state = app.state
            state.backends, state.settings = backends, settings
            state.engine, state.sessions = backends.engine, backends.sessions
            state.store, state.search = backends.store, backends.search
            state.clock, state.authorizer = backends.clock, backends.authorizer
            state.audit_key = backends.audit_key
            state.search_throttle = Throttle("search", settings.search_rate_limit)
            state.login_throttle = LoginThrottle()
            state.hash_timer = HashTimer()
            # password checks at once: a core left for everything else in a login flood
            state.hash_slots = asyncio.Semaphore(max(1, (os.cpu_count() or 2) - 1))
            state.anchorer = Anchorer(
                backends.sessions, backends.store, settings.audit.anchor_seconds,
                every_events=settings.audit.anchor_every_events,
                retain_days=settings.audit.anchor_retention_days,
                compliance=settings.audit.anchor_lock == "compliance")
            state.anchorer.start()
            state.dispatcher = backends.dispatcher
            state.worker = (start_workers(settings, backends.job_context(), backends.dispatcher)
                            if settings.embedded_worker else None)
            try:
                yield
            finally:
                if state.worker is not None:
                    state.worker.stop()
                state.anchorer.stop()

    # /docs and /redoc with their scripts served here, from a package: no CDN (intranets)
    app = FastAPIOffline(
        title="客户档案管理系统 Customer Records Archive",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        static_url="/docs-assets",
        openapi_url="/openapi.json",
    )
    for module in (auth, customers, dossiers, records, inbox, jobs, search, borrowing,
                   retention, disposition, transfers, audit, accounts, policies, health,
                   metrics_route):
        app.include_router(module.router, prefix=API)
    app.include_router(borrowing.reminders_router, prefix=API)
    _register_errors(app)
    mount_web(app, settings.web_dir, reserved=("/api/", "/docs", "/redoc", "/openapi.json"))
    app.add_middleware(RequestGuard, upload_bytes=settings.max_upload_bytes + 64 * 1024,
                       uploads={f"{API}/records"})
    app.add_middleware(SecurityHeaders, api_prefix=API)
    app.add_middleware(RequestMetrics, prefix=f"{API}/")
    return app
