"""Units, users, passwords (argon2) and bearer tokens (JWT).

Public surface: :func:`ensure_root_unit`, :func:`add_unit`, :func:`add_user`,
:func:`check_password`, :func:`set_password`, :func:`issue_token`, :func:`actor_from_token`
(signing in: :mod:`archive.services.logins`); the API's operations, among them
:func:`list_accounts` (the account directory).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import Unit, User, utcnow
from archive.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    SeparationOfDuties,
)
from archive.services.access import SECURITY_LEVELS, Actor
from archive.services.audit import Event
from archive.services.paging import Page, fetch_page
from archive.services.policy import lock_policy, require_other_holder, roles_of, set_grants
from archive.services.work import Work
from archive.settings import AuthSettings
from policies import Authorizer, Role

hasher = PasswordHasher()
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" online
# words a password of this archive's people is often made of (zxcvbn knows English ones)
_COMMON_HERE = ("woaini", "5201314", "1314", "520", "dangan", "gongdian", "dianli", "guowang",
                "sgcc", "archive", "admin", "mima", "qwer", "abc")
# Actor names of the audit trail for work no account does (the workers, the CLI, anonymous
# requests): no account may carry one, so no event can be passed off as the system's.
RESERVED_NAMES = frozenset({"system", "anonymous", "worker", "cli", "-"})
# Verified against when the user does not exist, so timing does not reveal usernames.
DUMMY_HASH = hasher.hash("not-a-real-password")


def ensure_root_unit(session: Session, *, code: str, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, parent_id=None, path=f"/{code}/")
        session.add(unit)
        session.flush()
    return unit


def unit_codes(session: Session) -> dict[str, str]:
    """Every unit's code by its path."""
    return {path: code for path, code in session.execute(select(Unit.path, Unit.code))}


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"unit {code} not found")
    return unit


def add_unit(session: Session, *, code: str, name: str, parent_code: str) -> Unit:
    if not _CODE.match(code):
        raise InvalidInput("unit code: lower-case letters, digits, - and _, at most 32")
    if session.scalar(select(Unit).where(Unit.code == code)) is not None:
        raise Conflict(f"unit {code} exists")
    parent = get_unit(session, parent_code)
    unit = Unit(code=code, name=name, parent_id=parent.id, path=f"{parent.path}{code}/")
    session.add(unit)
    session.flush()
    return unit


def add_user(
    session: Session, *, username: str, password: str, role: str, unit_code: str,
    clearance: str = "内部", personal_info: bool = False,
) -> User:
    """A new account; ``role`` may be empty (an account that can do nothing yet)."""
    if role and role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role}; one of {', '.join(r.value for r in Role)}")
    if clearance not in SECURITY_LEVELS:
        raise InvalidInput(f"clearance must be one of {', '.join(SECURITY_LEVELS)}")
    if username.lower() in RESERVED_NAMES or not username or username.startswith("-"):
        raise SeparationOfDuties("reserved_name", (
            f"{username!r} is reserved: the audit trail names the system's own work so"))
    check_password(password, username=username)
    taken = session.scalar(select(User.username).where(
        func.lower(User.username) == username.lower()))
    if taken is not None:  # Shenji beside shenji would pass for the same person
        raise Conflict(f"user {taken} exists" if taken == username
                       else f"user {username} is too like {taken}, which exists")
    unit = get_unit(session, unit_code)
    user = User(username=username, password_hash=hasher.hash(password), role=role,
                unit_id=unit.id, clearance=clearance, personal_info=personal_info,
                active=True)
    session.add(user)
    session.flush()
    set_grants(session, username=username, grants=[(role, unit.path)] if role else [])
    return user


def _letters(text: str) -> str:
    """Letters and digits only, folded (full-width forms, case): what a name looks like
    however it is spelled out inside a password (l-i-s-i, ｌｉｓｉ, LiSi)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def check_password(password: str, *, username: str) -> None:
    """口令规则: at least 10 characters of at least two kinds (letters, digits, other),
    not containing the username however spelled, and not guessable: not a common password
    nor made like one (zxcvbn's score of at least :data:`MIN_PASSWORD_STRENGTH`)."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    kinds = sum(any(test(c) for c in password)
                for test in (str.isalpha, str.isdigit, lambda c: not c.isalnum()))
    if kinds < 2:
        raise InvalidInput("password must mix at least two of letters, digits and symbols")
    if username and _letters(username) and _letters(username) in _letters(password):
        raise InvalidInput("password must not contain the username")
    # zxcvbn judges at most 72 characters; a longer password is judged by its start
    judged = zxcvbn(password[:72], user_inputs=[username, *_COMMON_HERE])
    if judged["score"] < MIN_PASSWORD_STRENGTH:
        why = judged["feedback"]["warning"] or "it is made like common passwords"
        raise InvalidInput(f"口令太容易猜到 password too easy to guess: {why}")


def set_password(session: Session, user: User, password: str, *, must_change: bool,
                 generated: bool = False) -> None:
    """A new password (checked by :func:`check_password`, unless ``generated`` at random
    here); every token issued so far stops working. ``must_change``: it is a temporary
    one, to be changed at the next login."""
    if not generated:
        check_password(password, username=user.username)
    user.password_hash = hasher.hash(password)
    user.must_change_password = must_change
    revoke_tokens(user)


def issue_token(user: User, settings: AuthSettings) -> str:
    now = utcnow()
    # jti: two sign-ins in one second are two sessions (each with its own CSRF token)
    claims = {"sub": str(user.id), "ver": user.token_version, "iat": now,
              "jti": secrets.token_urlsafe(12),
              "exp": now + timedelta(minutes=settings.token_minutes)}
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=settings.algorithm)


def actor_from_token(session: Session, token: str, settings: AuthSettings,
                     authorizer: Authorizer) -> Actor:
    try:
        claims = jwt.decode(token, settings.secret_key.get_secret_value(),
                            algorithms=[settings.algorithm], options={"require": ["exp", "sub"]})
        user_id = int(claims["sub"])
        version = int(claims.get("ver", -1))
    except (jwt.PyJWTError, ValueError, TypeError):
        raise NotAuthenticated("invalid or expired token") from None
    user = session.get(User, user_id)
    if user is None or not user.active or user.token_version != version:
        raise NotAuthenticated("invalid, expired or revoked token")
    return _actor(user, authorizer)


def _actor(user: User, authorizer: Authorizer) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role,
                 unit_code=user.unit.code, unit_path=user.unit.path, clearance=user.clearance,
                 personal_info=user.personal_info, authorizer=authorizer,
                 must_change_password=user.must_change_password)


def actor_for(session: Session, username: str, authorizer: Authorizer) -> Actor:
    """The actor of a job or an operator command acting as an existing account; every
    decision on their behalf goes to ``authorizer``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"user {username} not found or disabled")
    return _actor(user, authorizer)


def revoke_tokens(user: User) -> None:
    """Every token issued to the user so far stops working."""
    user.token_version += 1


def account_exists(session: Session, username: str) -> bool:
    return session.scalar(select(User.id).where(User.username == username)) is not None


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username} not found")
    return user


def set_active(session: Session, *, username: str, active: bool) -> User:
    """Enable or disable an account; the last active auditor, security admin or system
    admin is never disabled."""
    user = get_user(session, username)
    if not active and user.active:
        lock_policy(session)
        require_other_holder(session, username=username, losing=roles_of(session, username))
    user.active = active
    if not active:
        revoke_tokens(user)
    return user


def assign(
    session: Session, *, actor: Actor, username: str, role: str, unit_code: str,
    clearance: str, personal_info: bool = False, also: Sequence[tuple[str, str]] = (),
) -> User:
    """Give a user their role in their home unit, any further (role, unit code) grants,
    their clearance and personal-information clearance (安全管理员 only, never to
    themselves)."""
    from archive.errors import PermissionDenied

    if username == actor.username:
        raise PermissionDenied("nobody assigns roles to themselves")
    known = {r.value for r in Role}
    for name in (role, *(r for r, _ in also)):
        if name and name not in known:
            raise InvalidInput(f"unknown role {name}; one of {', '.join(sorted(known))}")
    if also and not role:
        raise InvalidInput("further grants need a role in the home unit")
    if clearance not in SECURITY_LEVELS:
        raise InvalidInput(f"clearance must be one of {', '.join(SECURITY_LEVELS)}")
    user = get_user(session, username)
    unit = get_unit(session, unit_code)
    user.role = role
    user.unit_id = unit.id
    grants = [(role, unit.path)] if role else []
    grants += [(r, get_unit(session, code).path) for r, code in also]
    set_grants(session, username=username, grants=grants)
    user.clearance = clearance
    user.personal_info = personal_info
    revoke_tokens(user)  # the old grants ride in no token any more
    return user


# The operations of the API, each recording its audit event in the caller's unit of work.

def open_account(work: Work, *, username: str, password: str, unit_code: str) -> User:
    """A new account with no role (only the security admin gives it one)."""
    user = add_user(work.session, username=username, password=password, role="",
                    unit_code=unit_code, clearance="公开")
    work.record(Event("account:create", "user", user.username))
    return user


def list_accounts(work: Work, *, q: str | None = None, active: bool | None = None,
                  limit: int, cursor: str | None) -> Page[User]:
    """The account directory (the two administrators'), by username: ``q`` is a part of
    the username."""
    query = select(User)
    q = (q or "").strip()
    if q:
        query = query.where(User.username.contains(q, autoescape=True))
    if active is not None:
        query = query.where(User.active.is_(active))
    page = fetch_page(work.session, query, tag="accounts", order=[User.username],
                      key=lambda user: (user.username,), limit=limit, cursor=cursor,
                      descending=False)
    work.record(Event("account:list", "user", "", details={
        "q": q, "active": active, "count": len(page.items)}))
    return page


def switch_account(work: Work, *, username: str, active: bool) -> User:
    user = set_active(work.session, username=username, active=active)
    work.record(Event("account:enable" if active else "account:disable", "user", username))
    return user


def grant_roles(work: Work, *, actor: Actor, username: str, details: dict, **grants: object
                ) -> User:
    user = assign(work.session, actor=actor, username=username, **grants)  # type: ignore[arg-type]
    work.record(Event("role:assign", "user", username, details=details))
    return user


def reset_password(work: Work, *, username: str, password: str) -> User:
    """A generated temporary password, to be changed at the next login."""
    user = get_user(work.session, username)
    set_password(work.session, user, password, must_change=True, generated=True)
    work.record(Event("password:reset", "user", username))
    return user


def sign_out(work: Work, *, username: str) -> None:
    revoke_tokens(get_user(work.session, username))
    work.record(Event("logout", "user", username))
