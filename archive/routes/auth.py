"""``/api/v1/auth``: the OAuth2 password flow and the caller's own profile."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from archive.deps import CurrentUser, SessionDep, SettingsDep
from archive.schemas import Me, Token
from archive.services.accounts import authenticate, issue_token
from policies import ROLE_LABELS, Role

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep,
    settings: SettingsDep,
) -> Token:
    user = authenticate(session, username=form.username, password=form.password)
    return Token(access_token=issue_token(user, settings.auth))


@router.get("/me", response_model=Me)
def me(actor: CurrentUser) -> Me:
    return Me(username=actor.username, role=actor.role, role_label=ROLE_LABELS[Role(actor.role)],
              unit=actor.unit_code, clearance=actor.clearance)
