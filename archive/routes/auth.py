"""``/api/v1/auth``: the OAuth2 password flow and the caller's own profile."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from starlette.datastructures import State

from archive.deps import SessionDep, WorkAnyDep, client_address, current_user_any, over_tls
from archive.errors import InvalidInput, NotAuthenticated
from archive.schemas import (
    Me,
    PasswordChange,
    PasswordChanged,
    SessionCreate,
    SessionPublic,
    Token,
    UnitRole,
)
from archive.services.access import Actor
from archive.services.accounts import sign_out
from archive.services.logins import (
    REFUSED,
    Credentials,
    change_own_password,
    check_credentials,
    note_refusal,
    sign_in,
)
from archive.services.sessions import COOKIE, capabilities, csrf_token
from policies import ROLE_LABELS, Role

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, every field bounded."""

    def __init__(
        self,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        grant_type: Annotated[str | None, Form(pattern="^password$", max_length=8)] = None,
        scope: Annotated[str, Form(max_length=256)] = "",
        client_id: Annotated[str | None, Form(max_length=64)] = None,
        client_secret: Annotated[str | None, Form(max_length=256)] = None,
    ) -> None:
        super().__init__(grant_type=grant_type, username=username, password=password,
                         scope=scope, client_id=client_id, client_secret=client_secret)


@router.post("/token", response_model=Token, responses={401: {"description": REFUSED}})
async def token(request: Request, form: Annotated[TokenForm, Depends()]) -> Token:
    """Sign in. Every failure (unknown account, wrong password, disabled, too many attempts)
    gets the same answer after about the same time; after a few failures from one address,
    each attempt waits a delay that doubles with every further failure."""
    state = request.app.state
    client = client_address(request)
    found = await _password_checked(state, form.username, form.password, client,
                                    "wrong username or password")
    token = await run_in_threadpool(sign_in, state.backends, found, client)
    return Token(access_token=token.access_token,
                 password_change_required=token.password_change_required)


@router.post("/session", response_model=SessionPublic,
             responses={401: {"description": REFUSED}})
async def open_session(request: Request, response: Response, body: SessionCreate
                       ) -> SessionPublic:
    """Sign the web application in: the same checks as ``/token``, but the token goes into
    an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure`` over TLS) that no script reads;
    the answer carries the CSRF token the page sends as ``X-CSRF-Token`` on every request
    that changes anything."""
    state = request.app.state
    client = client_address(request)
    found = await _password_checked(state, body.username, body.password, client,
                                    "wrong username or password")
    signed = await run_in_threadpool(sign_in, state.backends, found, client)
    _set_cookie(request, response, signed.access_token)
    return SessionPublic(username=found.username,
                         password_change_required=signed.password_change_required,
                         csrf_token=csrf_token(signed.access_token, state.settings.auth))


def _by_cookie(request: Request) -> bool:
    return "authorization" not in request.headers and COOKIE in request.cookies


def _set_cookie(request: Request, response: Response, token: str) -> None:
    minutes = request.app.state.settings.auth.token_minutes
    response.set_cookie(COOKIE, token, max_age=minutes * 60, path="/api/", httponly=True,
                        samesite="strict", secure=over_tls(request))


async def _password_checked(state: State, name: str, password: str, client: str,
                            wrong: str) -> Credentials:
    """The account these credentials open, checked as every sign-in is: throttled (the
    first refusal of a burst audited), argon2 on a hash slot with no lock held, a failure
    counted and audited as ``wrong``; every failure raises the same :data:`REFUSED`."""
    if state.login_throttle.wait(name, client) > 0:
        await asyncio.sleep(state.hash_timer.typical)
        if state.login_throttle.refused(name, client):
            await run_in_threadpool(note_refusal, state.backends, name, client,
                                    "too many failed attempts")
        raise NotAuthenticated(REFUSED)
    async with state.hash_slots:  # argon2 on at most the cores it may take
        started = time.monotonic()
        found = await run_in_threadpool(check_credentials, state.engine, name, password)
        state.hash_timer.add(time.monotonic() - started)
    if found is None:
        state.login_throttle.failed(name, client)
        await run_in_threadpool(note_refusal, state.backends, name, client, wrong)
        raise NotAuthenticated(REFUSED)
    state.login_throttle.succeeded(name, client)
    return found


@router.post("/password", response_model=PasswordChanged,
             responses={401: {"description": REFUSED}})
async def change_password(request: Request, response: Response, body: PasswordChange,
                          actor: Annotated[Actor, Depends(current_user_any)]
                          ) -> PasswordChanged:
    """Change one's own password (a reset one must be changed before anything else): the
    current password is checked as a login is, every other session ends, and the answer
    is a fresh token (for the web application: a fresh session cookie and its CSRF
    token)."""
    state = request.app.state
    client = client_address(request)
    if body.new_password == body.current_password:  # a reset one kept is no change
        raise InvalidInput("the new password must differ from the current one")
    await _password_checked(state, actor.username, body.current_password, client,
                            "wrong current password")
    async with state.hash_slots:
        token = await run_in_threadpool(change_own_password, state.backends, actor,
                                        body.new_password, client)
    if _by_cookie(request):
        _set_cookie(request, response, token.access_token)
        return PasswordChanged(csrf_token=csrf_token(token.access_token, state.settings.auth))
    return PasswordChanged(access_token=token.access_token)


@router.post("/logout", status_code=204)
def logout(actor: Annotated[Actor, Depends(current_user_any)], work: WorkAnyDep) -> Response:
    """Revoke every token of the caller (all their sessions end) and drop the session
    cookie."""
    sign_out(work, username=actor.username)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/api/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=Me)
def me(request: Request, session: SessionDep,
       actor: Annotated[Actor, Depends(current_user_any)]) -> Me:
    """The caller's profile and capabilities: the actions their roles hold somewhere and
    the units they hold them in (what the web application's navigation shows; every
    object is still decided when it is asked for), and for the web application's session
    its CSRF token."""
    can = capabilities(session, actor)
    csrf = (csrf_token(request.cookies[COOKIE], request.app.state.settings.auth)
            if _by_cookie(request) else None)
    return Me(username=actor.username, role=actor.role, role_label=_label(actor.role),
              unit=actor.unit_code, clearance=actor.clearance,
              personal_info=actor.personal_info,
              password_change_required=actor.must_change_password,
              actions=can.actions, csrf_token=csrf,
              units=[UnitRole(role=role, role_label=_label(role), code=code, name=name)
                     for role, code, name in can.units])


def _label(role: str) -> str:
    return ROLE_LABELS[Role(role)] if role in set(Role) else "未分配角色"
