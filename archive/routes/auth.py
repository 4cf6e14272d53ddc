"""``/api/v1/auth``: the OAuth2 password flow and the caller's own profile."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from archive.deps import CurrentUser, SessionDep, SettingsDep, Trail, client_address
from archive.errors import NotAuthenticated
from archive.schemas import Me, Token
from archive.services.accounts import authenticate, issue_token
from archive.services.audit import Event
from policies import ROLE_LABELS, Role

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep, settings: SettingsDep,
) -> Token:
    trail = Trail(request.app.state.audit_key, None, client_address(request))
    try:
        user = authenticate(session, username=form.username, password=form.password)
    except NotAuthenticated as exc:
        session.rollback()
        trail.record(session, Event("login", "user", form.username[:64], decision="deny",
                                    reason=exc.detail), username=form.username[:64])
        session.commit()
        raise
    trail.record(session, Event("login", "user", user.username), username=user.username)
    session.commit()
    return Token(access_token=issue_token(user, settings.auth))


@router.get("/me", response_model=Me)
def me(actor: CurrentUser) -> Me:
    return Me(username=actor.username, role=actor.role, role_label=ROLE_LABELS[Role(actor.role)],
              unit=actor.unit_code, clearance=actor.clearance)
