"""Cursor paging (keyset) for the lists of the API: customers, dossiers, a dossier's
records, jobs, transfers, accounts.

A page is read in a fixed order of unique keys (``(created_at, id)`` newest first, or a
unique key such as the 户号) and continues after the last key given out, so every item is
listed once however the list grows meanwhile, and no page costs more than its own rows (no
OFFSET, no COUNT). The cursor is opaque to clients: the list's name and the last key, as
URL-safe base64 of JSON. One that this list did not give out is refused (422).

Public surface: :class:`Page`, :func:`fetch_page`, :func:`encode_cursor`,
:func:`decode_cursor`, ``DEFAULT_LIMIT``, ``MAX_LIMIT``, ``MAX_CURSOR``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR = 512  # characters: a key of a few short values


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None: this was the last)."""

    items: list[T]
    next: str | None


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(tag: str, key: Sequence[object]) -> str:
    """The cursor continuing list ``tag`` after the item whose sort key is ``key``."""
    text = json.dumps([tag, *map(_plain, key)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _typed(value: object, kind: type) -> object:
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"not a {kind.__name__}")


def decode_cursor(tag: str, cursor: str | None, kinds: Sequence[type]) -> tuple[Any, ...] | None:
    """The key a cursor of list ``tag`` continues after (None for the first page).
    Raises :class:`InvalidInput` for anything this list did not give out."""
    if cursor is None or cursor == "":
        return None
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode())
        if (not isinstance(values, list) or len(values) != len(kinds) + 1
                or values[0] != tag):
            raise ValueError("not this list's")
        return tuple(_typed(value, kind) for value, kind in zip(values[1:], kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this list gave out; start again without it"
                           ) from None


def _after(order: Sequence[InstrumentedAttribute], key: Sequence[object],
           descending: bool) -> ColumnElement[bool]:
    """SQL: the row sorts after ``key`` in ``order`` (each column unique together)."""
    column, *rest = order
    value, *more = key
    beyond = column < value if descending else column > value
    if not rest:
        return beyond
    return or_(beyond, and_(column == value, _after(rest, more, descending)))


def fetch_page(
    session: Session, query: Select, *, tag: str, order: Sequence[InstrumentedAttribute],
    key: Callable[[T], Sequence[object]], limit: int, cursor: str | None,
    descending: bool = True,
) -> Page[T]:
    """The page of ``query`` (selecting one entity) after ``cursor``: at most ``limit``
    items in ``order`` (the columns of ``key(item)``, unique together), and whether more
    follow, found by reading one row beyond."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    kinds = [column.type.python_type for column in order]
    after = decode_cursor(tag, cursor, kinds)
    if after is not None:
        query = query.where(_after(order, after, descending))
    query = query.order_by(*(c.desc() if descending else c.asc() for c in order))
    rows = list(session.scalars(query.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(tag, key(rows[-1])) if more and rows else None)
