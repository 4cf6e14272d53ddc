"""Units, users, passwords (argon2) and bearer tokens (JWT).

Public surface: :func:`ensure_root_unit`, :func:`add_unit`, :func:`add_user`,
:func:`authenticate`, :func:`issue_token`, :func:`actor_from_token`.
"""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Unit, User, utcnow
from archive.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from archive.services.access import SECURITY_LEVELS, Actor
from archive.settings import AuthSettings
from policies import Role

_hasher = PasswordHasher()
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MIN_PASSWORD_LENGTH = 10
# Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def ensure_root_unit(session: Session, *, code: str, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, parent_id=None, path=f"/{code}/")
        session.add(unit)
        session.flush()
    return unit


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
    clearance: str = "内部",
) -> User:
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role}; one of {', '.join(r.value for r in Role)}")
    if clearance not in SECURITY_LEVELS:
        raise InvalidInput(f"clearance must be one of {', '.join(SECURITY_LEVELS)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username} exists")
    unit = get_unit(session, unit_code)
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                unit_id=unit.id, clearance=clearance, active=True)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("wrong username or password") from None
    if user is None or not user.active:
        raise NotAuthenticated("wrong username or password")
    return user


def issue_token(user: User, settings: AuthSettings) -> str:
    now = utcnow()
    claims = {"sub": str(user.id), "iat": now,
              "exp": now + timedelta(minutes=settings.token_minutes)}
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=settings.algorithm)


def actor_from_token(session: Session, token: str, settings: AuthSettings) -> Actor:
    try:
        claims = jwt.decode(token, settings.secret_key.get_secret_value(),
                            algorithms=[settings.algorithm], options={"require": ["exp", "sub"]})
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        raise NotAuthenticated("invalid or expired token") from None
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotAuthenticated("invalid or expired token")
    return Actor(user_id=user.id, username=user.username, role=user.role,
                 unit_code=user.unit.code, unit_path=user.unit.path, clearance=user.clearance)


def actor_for(session: Session, username: str) -> Actor:
    """The actor of a local operator command acting as an existing account."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"user {username} not found or disabled")
    return Actor(user_id=user.id, username=user.username, role=user.role,
                 unit_code=user.unit.code, unit_path=user.unit.path, clearance=user.clearance)
