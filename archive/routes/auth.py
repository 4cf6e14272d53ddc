"""``/api/v1/auth``: the OAuth2 password flow and the caller's own profile."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from archive.deps import CurrentUser, SessionDep, SettingsDep, TrailDep, client_address
from archive.errors import NotAuthenticated
from archive.schemas import Me, Token
from archive.services.accounts import (
    AccountLocked,
    account_exists,
    actor_for,
    authenticate,
    get_user,
    issue_token,
    note_failed_login,
    revoke_tokens,
)
from archive.services.audit import Event, Trail
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


@router.post("/token", response_model=Token)
def token(
    request: Request, form: Annotated[TokenForm, Depends()],
    session: SessionDep, settings: SettingsDep,
) -> Token:
    trail = Trail(request.app.state.audit_key, None, client_address(request))
    name = form.username[:64]
    try:
        user = authenticate(session, username=form.username, password=form.password)
    except NotAuthenticated as exc:
        session.rollback()
        locked_now = (not isinstance(exc, AccountLocked)
                      and note_failed_login(session, username=form.username))
        # The event names an account only if there is one: a typed name is no actor (and
        # the reserved names of the system's own work never are).
        actor_name = name if account_exists(session, form.username) else "-"
        trail.record(session, Event("login", "user", name, decision="deny", reason=exc.detail),
                     username=actor_name)
        if locked_now:
            trail.record(session, Event("account:lock", "user", name,
                                        reason="repeated failed logins"), username=actor_name)
        session.commit()
        raise
    actor = actor_for(session, user.username, request.app.state.authorizer)
    Trail(trail.key, actor, trail.client).record(
        session, Event("login", "user", user.username))
    session.commit()
    return Token(access_token=issue_token(user, settings.auth))


@router.post("/logout", status_code=204)
def logout(actor: CurrentUser, session: SessionDep, trail: TrailDep) -> Response:
    """Revoke every token of the caller (all their sessions end)."""
    revoke_tokens(get_user(session, actor.username))
    trail.record(session, Event("logout", "user", actor.username))
    session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=Me)
def me(actor: CurrentUser) -> Me:
    label = ROLE_LABELS[Role(actor.role)] if actor.role else "未分配角色"
    return Me(username=actor.username, role=actor.role, role_label=label,
              unit=actor.unit_code, clearance=actor.clearance,
              personal_info=actor.personal_info)
