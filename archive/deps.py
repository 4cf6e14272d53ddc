"""FastAPI dependencies: the clients built once in the lifespan, and the current user.

Public surface: ``SessionDep``, ``StoreDep``, ``SearchDep``, ``SettingsDep``,
``AuthorizerDep``, ``ClockDep``, ``CurrentUser``, ``TrailDep`` (the audit trail bound to the
caller),
:func:`allowed` (an action check as a dependency).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from archive.clock import Clock
from archive.errors import CsrfRefused, NotAuthenticated, PasswordChangeRequired
from archive.services.access import Actor, require
from archive.services.accounts import actor_from_token
from archive.services.audit import Trail
from archive.services.jobs.dispatch import Dispatcher
from archive.services.sessions import COOKIE, CSRF_HEADER, SAFE_METHODS, csrf_token
from archive.services.work import Work
from archive.settings import AuthSettings, Settings
from policies import Authorizer
from search import SearchBackend
from storage import ObjectStore

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _state(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    return _state(request).sessions


def get_session(request: Request) -> Iterator[Session]:
    with _state(request).sessions() as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    return _state(request).settings


def get_store(request: Request) -> ObjectStore:
    return _state(request).store


def get_search(request: Request) -> SearchBackend:
    return _state(request).search


def get_authorizer(request: Request) -> Authorizer:
    return _state(request).authorizer


def get_clock(request: Request) -> Clock:
    return _state(request).clock


def get_dispatcher(request: Request) -> Dispatcher:
    return _state(request).dispatcher


SessionDep = Annotated[Session, Depends(get_session)]
SessionmakerDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
SearchDep = Annotated[SearchBackend, Depends(get_search)]
AuthorizerDep = Annotated[Authorizer, Depends(get_authorizer)]
ClockDep = Annotated[Clock, Depends(get_clock)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


def current_user_any(
    request: Request, bearer: Annotated[str | None, Depends(oauth2)],
) -> Actor:
    """The caller, whether or not they must change a reset password first (for the few
    routes that serve them then: the change itself, their profile, logout). Integrators
    send a bearer token; the web application's session cookie counts only with its CSRF
    token on every request that changes anything."""
    state = _state(request)
    token = bearer or request.cookies.get(COOKIE)
    if not token:
        raise NotAuthenticated("a bearer token is required")
    # Once per request: any policy change committed before this request counts.
    state.authorizer.refresh()
    with state.sessions() as session:
        actor = actor_from_token(session, token, state.settings.auth, state.authorizer)
    # Kept for the error handlers, which audit denials on the actor's behalf.
    request.state.actor = actor
    if not bearer:
        check_csrf(request, token, state.settings.auth)
    return actor


def check_csrf(request: Request, token: str, auth: AuthSettings) -> None:
    """A state-changing request on the web application's ``HttpOnly`` session cookie must
    carry the CSRF token that belongs to it (a page of another site can make the browser
    send the cookie, never read the token: SameSite=Strict is the second wall). A refusal
    is audited on the cookie holder's behalf: it is what a forged request looks like."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent, csrf_token(token, auth)):
        raise CsrfRefused("the CSRF token is missing or wrong; reload the page")


def current_user(actor: Annotated[Actor, Depends(current_user_any)]) -> Actor:
    """The caller, who has changed any reset password."""
    if actor.must_change_password:
        raise PasswordChangeRequired("change the reset password first: POST "
                                     "/api/v1/auth/password")
    return actor


CurrentUser = Annotated[Actor, Depends(current_user)]


def client_address(request: Request) -> str:
    """The client's address as the audit trail records it: the peer of the connection,
    unless that peer is a trusted proxy (``ARCHIVE_TRUSTED_PROXIES``); then the nearest
    address of ``X-Forwarded-For`` that is not one of them. A header anyone can send is
    believed only from the proxies that set it."""
    peer = request.client.host if request.client else ""
    trusted = _state(request).settings.trusted_proxies
    if not trusted or not _within(peer, trusted):
        return peer
    forwarded = [part.strip() for header in request.headers.getlist("x-forwarded-for")
                 for part in header.split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _within(address, trusted):
            return address[:64]
    return peer


def over_tls(request: Request) -> bool:
    """The request came over TLS: to this server, or to a trusted proxy that says so in
    ``X-Forwarded-Proto``."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    trusted = _state(request).settings.trusted_proxies
    return (bool(trusted) and _within(peer, trusted)
            and request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https")


def _within(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def get_trail(request: Request, actor: CurrentUser) -> Trail:
    return Trail(_state(request).audit_key, actor, client_address(request))


TrailDep = Annotated[Trail, Depends(get_trail)]


def get_work(session: SessionDep, trail: TrailDep) -> Iterator[Work]:
    """The request's unit of work, committed (then its after-commit steps run) when the
    route returns and before its answer is sent; nothing is committed if it raises."""
    work = Work(session, trail)
    try:
        yield work
    except BaseException:
        work.abandon()
        raise
    work.commit()


# scope="function": the commit runs as the route returns, not after the answer is sent
WorkDep = Annotated[Work, Depends(get_work, scope="function")]


def get_work_any(request: Request, session: SessionDep,
                 actor: Annotated[Actor, Depends(current_user_any)]) -> Iterator[Work]:
    """:func:`get_work` for the routes that serve a caller who must still change a reset
    password (logout)."""
    yield from get_work(session, Trail(_state(request).audit_key, actor,
                                       client_address(request)))


WorkAnyDep = Annotated[Work, Depends(get_work_any, scope="function")]


def allowed(action: str) -> Callable[..., Actor]:
    """A dependency that yields the current user if their role may perform ``action``."""

    def check(actor: CurrentUser) -> Actor:
        require(actor, action)
        return actor

    check.__name__ = f"allowed_{action.replace(':', '_')}"
    return check
