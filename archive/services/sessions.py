"""The web application's session: the signed-in token kept in an ``HttpOnly`` cookie no
script can read, and the CSRF token derived from it that the page sends back on every
request that changes anything (``X-CSRF-Token``).

The CSRF token is an HMAC of the session token under the signing key: nothing is stored,
it changes with every sign-in, and it is worthless without the cookie. The page learns it
from the sign-in answer and from ``GET /auth/me``, which another site's page can make a
browser call but never read.

Public surface: ``COOKIE``, ``CSRF_HEADER``, ``SAFE_METHODS``, :func:`csrf_token`,
:func:`capabilities`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import Unit
from archive.services.access import Actor
from archive.services.policy import grants_of
from archive.settings import AuthSettings
from policies import Action

COOKIE = "archive_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str, auth: AuthSettings) -> str:
    key = auth.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf\0" + session_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Capabilities:
    """What the caller may do, as the navigation of the web application shows it: the
    actions their roles hold somewhere, and the units they hold a role in. Each object is
    still decided on its own when it is asked for."""

    actions: list[str]
    units: list[tuple[str, str, str]]  # (role, unit code, unit name)


def capabilities(session: Session, actor: Actor) -> Capabilities:
    actions = [str(a) for a in Action if actor.authorizer.domains(actor.subject, a)]
    names = {unit.path: (unit.code, unit.name) for unit in session.scalars(select(Unit))}
    units = [(role, *names.get(path, (path, path))) for role, path in
             grants_of(session, actor.username)]
    return Capabilities(actions=actions, units=units)
