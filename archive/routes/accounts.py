"""``/api/v1/accounts``: accounts (系统管理员) and their grants (安全管理员), kept apart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from archive.db.models import User
from archive.deps import SettingsDep, WorkDep, allowed
from archive.errors import SeparationOfDuties
from archive.routes.paging import DEFAULT_LIMIT, Cursor, Limit, Search
from archive.schemas import Code, ItemsPage, Level
from archive.services.access import Actor
from archive.services.accounts import (
    get_user,
    grant_roles,
    list_accounts,
    open_account,
    switch_account,
    unit_codes,
)
from archive.services.accounts import reset_password as reset_password_of
from archive.services.logins import temporary_password
from archive.services.policy import grants_by_user, grants_of, roles_of
from archive.services.work import Work
from policies import Action, Role

router = APIRouter(prefix="/accounts", tags=["accounts"])


class AccountCreate(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{2,64}$", max_length=64)
    password: str = Field(max_length=256)


class UnitGrant(BaseModel):
    role: Code
    unit: Code


class Grants(BaseModel):
    role: Code = Field(description="archivist|staff|auditor|security_admin|system_admin, or ''")
    unit: Code = Field(description="the home unit, where the role is held")
    clearance: Level = "内部"
    personal_info: bool = Field(False, description="may read personal information unmasked")
    also: list[UnitGrant] = Field(
        default_factory=list, max_length=50,
        description="further roles in other units (archivist and staff only combine)")


class AccountPublic(BaseModel):
    username: str
    role: str
    unit: str
    clearance: str
    personal_info: bool
    active: bool
    grants: list[UnitGrant] = Field(description="every role the user holds, by unit")


def account_public(session: Session, user: User, *, codes: dict[str, str] | None = None,
                   grants: list[tuple[str, str]] | None = None) -> AccountPublic:
    codes = unit_codes(session) if codes is None else codes
    grants = grants_of(session, user.username) if grants is None else grants
    return AccountPublic(username=user.username, role=user.role, unit=user.unit.code,
                         clearance=user.clearance, personal_info=user.personal_info,
                         active=user.active, grants=[
                             UnitGrant(role=role, unit=codes.get(path, path))
                             for role, path in grants])


class AccountPage(ItemsPage[AccountPublic]):
    pass


@router.get("", response_model=AccountPage)
def index(
    work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.ACCOUNT_READ))],
    q: Search = None,
    active: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AccountPage:
    """The account directory by username (系统管理员 and 安全管理员): ``q`` is a part of the
    username; ``active=false`` lists the disabled accounts."""
    page = list_accounts(work, q=q, active=active, limit=limit, cursor=cursor)
    codes = unit_codes(work.session)
    grants = grants_by_user(work.session, [user.username for user in page.items])
    return AccountPage(items=[account_public(work.session, user, codes=codes,
                                             grants=grants[user.username])
                              for user in page.items], next=page.next)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountPublic)
def create(
    body: AccountCreate, work: WorkDep, settings: SettingsDep,
    actor: Annotated[Actor, Depends(allowed(Action.ACCOUNT_CREATE))],
) -> AccountPublic:
    """A new account with no role: only the security admin can give it one."""
    user = open_account(work, username=body.username, password=body.password,
                        unit_code=settings.root_unit)
    return account_public(work.session, user)


def _set_active(work: Work, username: str, *, active: bool) -> AccountPublic:
    user = switch_account(work, username=username, active=active)
    return account_public(work.session, user)


@router.post("/{username}/disable", response_model=AccountPublic)
def disable(
    username: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.ACCOUNT_DISABLE))],
) -> AccountPublic:
    """Disable an account; every token it holds stops working at once."""
    return _set_active(work, username, active=False)


@router.post("/{username}/enable", response_model=AccountPublic)
def enable(
    username: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.ACCOUNT_DISABLE))],
) -> AccountPublic:
    return _set_active(work, username, active=True)


@router.put("/{username}/grants", response_model=AccountPublic)
def grants(
    username: str, body: Grants, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.ROLE_ASSIGN))],
) -> AccountPublic:
    user = grant_roles(work, actor=actor, username=username, details=body.model_dump(),
                       role=body.role, unit_code=body.unit, clearance=body.clearance,
                       personal_info=body.personal_info,
                       also=[(g.role, g.unit) for g in body.also])
    return account_public(work.session, user)


class TemporaryPassword(BaseModel):
    username: str
    temporary_password: str = Field(description="shown once; to be changed at next login")


ADMINISTRATORS = {Role.AUDITOR, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN}


@router.post("/{username}/password-reset", response_model=TemporaryPassword)
def reset_password(
    username: str, work: WorkDep,
    actor: Annotated[Actor, Depends(allowed(Action.ACCOUNT_RESET))],
) -> TemporaryPassword:
    """A temporary password for a user who forgot theirs: every work.session of theirs ends,
    and at the next login they must change it before anything else. The three
    administrators' passwords are not reset here (the system admin would hold the auditor's
    or the security admin's): an operator resets them on the server, ``archive users
    reset-password``."""
    get_user(work.session, username)  # 404 for no such account
    if roles_of(work.session, username) & ADMINISTRATORS:
        raise SeparationOfDuties("administrators-reset-on-the-server",
                                 f"{username} is an administrator; reset with `archive users "
                                 "reset-password` on the server")
    password = temporary_password()
    reset_password_of(work, username=username, password=password)
    return TemporaryPassword(username=username, temporary_password=password)
