"""``/api/v1/auth``: the OAuth2 password flow and the caller's own profile."""

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm

from archive.db.models import utcnow
from archive.deps import WorkAnyDep, client_address, current_user_any
from archive.errors import InvalidInput, NotAuthenticated
from archive.schemas import Me, PasswordChange, Token
from archive.services.access import Actor
from archive.services.accounts import (
    account_exists,
    actor_for,
    get_user,
    issue_token,
    revoke_tokens,
    set_password,
)
from archive.services.audit import Event, Trail
from archive.services.logins import REFUSED, Credentials, check_credentials
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
    name = form.username
    if state.login_throttle.wait(name, client) > 0:
        await asyncio.sleep(state.hash_timer.typical)
        if state.login_throttle.refused(name, client):  # the first of a burst is audited
            await run_in_threadpool(_refusal, state, name, client, "too many failed attempts")
        raise NotAuthenticated(REFUSED)
    async with state.hash_slots:  # argon2 on at most the cores it may take, no lock held
        started = time.monotonic()
        found = await run_in_threadpool(check_credentials, state.engine, name, form.password)
        state.hash_timer.add(time.monotonic() - started)
    if found is None:
        state.login_throttle.failed(name, client)
        await run_in_threadpool(_refusal, state, name, client, "wrong username or password")
        raise NotAuthenticated(REFUSED)
    state.login_throttle.succeeded(name, client)
    return await run_in_threadpool(_signed_in, state, found, client)


def _refusal(state, name: str, client: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    # The event names an account only if there is one: a typed name is no actor (and the
    # reserved names of the system's own work never are).
    with state.sessions.begin() as session:
        actor_name = name if account_exists(session, name) else "-"
        Trail(state.audit_key, None, client).record(
            session, Event("login", "user", name[:64], decision="deny", reason=reason),
            username=actor_name)


def _signed_in(state, found: Credentials, client: str) -> Token:  # type: ignore[no-untyped-def]
    with state.sessions.begin() as session:
        user = get_user(session, found.username)
        user.last_login_at = utcnow()
        actor = actor_for(session, user.username, state.authorizer)
        Trail(state.audit_key, actor, client).record(
            session, Event("login", "user", user.username))
        return Token(access_token=issue_token(user, state.settings.auth),
                     password_change_required=user.must_change_password)


@router.post("/password", response_model=Token, responses={401: {"description": REFUSED}})
async def change_password(request: Request, body: PasswordChange,
                          actor: Annotated[Actor, Depends(current_user_any)]) -> Token:
    """Change one's own password (a reset one must be changed before anything else): the
    current password is checked as a login is, every other session ends, and the answer
    is a fresh token."""
    state = request.app.state
    client = client_address(request)
    if body.new_password == body.current_password:  # a reset one kept is no change
        raise InvalidInput("the new password must differ from the current one")
    if state.login_throttle.wait(actor.username, client) > 0:
        await asyncio.sleep(state.hash_timer.typical)
        raise NotAuthenticated(REFUSED)
    async with state.hash_slots:
        found = await run_in_threadpool(check_credentials, state.engine, actor.username,
                                        body.current_password)
    if found is None:
        state.login_throttle.failed(actor.username, client)
        await run_in_threadpool(_refusal, state, actor.username, client,
                                "wrong current password")
        raise NotAuthenticated(REFUSED)
    async with state.hash_slots:
        return await run_in_threadpool(_changed, state, actor, body.new_password, client)


def _changed(state, actor: Actor, password: str, client: str) -> Token:  # type: ignore[no-untyped-def]
    with state.sessions.begin() as session:
        user = get_user(session, actor.username)
        set_password(session, user, password, must_change=False)
        Trail(state.audit_key, actor, client).record(
            session, Event("password:change", "user", user.username))
        session.flush()
        return Token(access_token=issue_token(user, state.settings.auth))


@router.post("/logout", status_code=204)
def logout(actor: Annotated[Actor, Depends(current_user_any)], work: WorkAnyDep) -> Response:
    """Revoke every token of the caller (all their sessions end)."""
    revoke_tokens(get_user(work.session, actor.username))
    work.record(Event("logout", "user", actor.username))
    return Response(status_code=204)


@router.get("/me", response_model=Me)
def me(actor: Annotated[Actor, Depends(current_user_any)]) -> Me:
    label = ROLE_LABELS[Role(actor.role)] if actor.role else "未分配角色"
    return Me(username=actor.username, role=actor.role, role_label=label,
              unit=actor.unit_code, clearance=actor.clearance,
              personal_info=actor.personal_info,
              password_change_required=actor.must_change_password)
