"""Signing in: passwords checked outside any write transaction, failures slowed by growing
delays rather than a lock a stranger could set off, and one answer for every failure.

- :func:`check_credentials` reads the account in a bare read (no write lock: on SQLite
  every transaction takes one) and verifies the password there, so a login holds no lock
  while argon2 runs; the event and the last-login time are written after, briefly.
- :class:`LoginThrottle` counts failures by (account, client address) and by client
  address. A few are free; after them each attempt for that account from that address
  must wait a delay that doubles with every further failure (up to 15 minutes). A
  stranger's wrong passwords, sent from elsewhere, never delay the owner. The address as
  a whole (one guesser trying many accounts) is slowed more gently: after 50 failures, a
  delay of at most 10 s, for an address may be an office behind one NAT, where anyone's
  flood would otherwise keep everyone out (give proxies as ``ARCHIVE_TRUSTED_PROXIES`` so
  each client counts on its own).
- Unknown accounts, wrong passwords, disabled accounts and throttled attempts all get
  :data:`REFUSED`, after about the time a password check takes (:class:`HashTimer`).

Public surface: :data:`REFUSED`, :func:`check_credentials`, :class:`LoginThrottle`,
:class:`HashTimer`, :func:`note_refusal`, :func:`sign_in`, :func:`change_own_password`,
:func:`temporary_password`.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select

from archive.db.models import User, utcnow
from archive.services.access import Actor
from archive.services.audit import Event, Trail

if TYPE_CHECKING:
    from archive.backends import Backends

REFUSED = ("用户名或密码错误；多次失败后请稍候再试 wrong username or password; after repeated "
           "failures, wait a little between attempts")


@dataclass(frozen=True)
class Credentials:
    """The account a password was checked against."""

    user_id: int
    username: str


def check_credentials(engine: Engine, username: str, password: str) -> Credentials | None:
    """The account these credentials open, or None (unknown, wrong, disabled): one bare
    read, then argon2 with no transaction open. An unknown name is checked against a dummy
    hash, so it takes as long as a known one."""
    from archive.services.accounts import DUMMY_HASH, hasher

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(select(User.id, User.username, User.password_hash,
                                        User.active)
                                 .where(User.username == username)).first()
    try:
        hasher.verify(row.password_hash if row is not None else DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    return Credentials(row.id, row.username)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    not_before: float = 0.0
    refused_since: bool = False  # a throttled attempt was refused (and audited) since


class LoginThrottle:
    """Growing delays after failed logins, by (account, client) and by client."""

    def __init__(self, *, free: int = 3, free_per_client: int = 50, base: float = 1.0,
                 ceiling: float = 900.0, ceiling_per_client: float = 10.0,
                 forget_after: float = 900.0,
                 capacity: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.free_per_client = free, free_per_client
        self.base, self.forget_after = base, forget_after
        self.ceilings = (ceiling, ceiling_per_client)
        self.capacity, self.clock = capacity, clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, ...], _Failures] = OrderedDict()

    @staticmethod
    def _keys(account: str, client: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("account", account.casefold(), client), ("client", client)

    def _get(self, key: tuple[str, ...], now: float) -> _Failures | None:
        found = self._seen.get(key)
        if found is not None and now - found.last > self.forget_after:
            del self._seen[key]
            return None
        return found

    def wait(self, account: str, client: str) -> float:
        """Seconds before this client may try this account again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [found.not_before - now for key in self._keys(account, client)
                     if (found := self._get(key, now)) is not None]
        return max([0.0, *waits])

    def refused(self, account: str, client: str) -> bool:
        """Note a throttled attempt; True for the first of a burst (the one to audit)."""
        now = self.clock()
        with self._lock:
            first = False
            for key in self._keys(account, client):
                found = self._get(key, now)
                if found is not None and found.not_before > now and not found.refused_since:
                    found.refused_since = first = True
        return first

    def failed(self, account: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key, free, ceiling in zip(self._keys(account, client),
                                          (self.free, self.free_per_client), self.ceilings,
                                          strict=True):
                found = self._get(key, now) or _Failures()
                found.count += 1
                found.last = now
                found.refused_since = False
                if found.count >= free:
                    delay = self.base * 2 ** min(found.count - free, 30)  # no overflow
                    found.not_before = now + min(ceiling, delay)
                self._seen[key] = found
                self._seen.move_to_end(key)
            while len(self._seen) > self.capacity:  # a flood of names: forget the oldest
                self._seen.popitem(last=False)

    def succeeded(self, account: str, client: str) -> None:
        with self._lock:
            self._seen.pop(self._keys(account, client)[0], None)


class HashTimer:
    """How long a password check takes here (the median of the latest): a refusal made
    without one waits as long, so its timing tells nothing."""

    def __init__(self, first: float = 0.05) -> None:
        self._lock = threading.Lock()
        self._times: deque[float] = deque([first], maxlen=31)

    def add(self, seconds: float) -> None:
        with self._lock:
            self._times.append(seconds)

    @property
    def typical(self) -> float:
        with self._lock:
            return statistics.median(self._times)


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    password_change_required: bool = False


def note_refusal(backends: Backends, name: str, client: str, reason: str) -> None:
    """Audit a refused sign-in (or password check). The event names an account only if
    there is one: a typed name is no actor (and the reserved names of the system's own
    work never are)."""
    from archive.services.accounts import account_exists

    with backends.sessions.begin() as session:
        actor_name = name if account_exists(session, name) else "-"
        Trail(backends.audit_key, None, client).record(
            session, Event("login", "user", name[:64], decision="deny", reason=reason),
            username=actor_name)


def sign_in(backends: Backends, found: Credentials, client: str) -> SignedIn:
    """The token of an account whose password was checked: the login audited and timed."""
    from archive.services.accounts import actor_for, get_user, issue_token

    with backends.sessions.begin() as session:
        user = get_user(session, found.username)
        user.last_login_at = utcnow()
        actor = actor_for(session, user.username, backends.authorizer)
        Trail(backends.audit_key, actor, client).record(
            session, Event("login", "user", user.username))
        return SignedIn(issue_token(user, backends.settings.auth), user.must_change_password)


def change_own_password(backends: Backends, actor: Actor, password: str, client: str
                        ) -> SignedIn:
    """A new password, its current one checked already: every other session ends."""
    from archive.services.accounts import get_user, issue_token, set_password

    with backends.sessions.begin() as session:
        user = get_user(session, actor.username)
        set_password(session, user, password, must_change=False)
        Trail(backends.audit_key, actor, client).record(
            session, Event("password:change", "user", user.username))
        session.flush()
        return SignedIn(issue_token(user, backends.settings.auth))


def temporary_password() -> str:
    """A password for a reset, to be changed at the next login: 20 random characters."""
    return secrets.token_urlsafe(15)
