"""Objects in storage that no catalogue row knows: what a crash between storing an
original (or an access copy, or a package) and committing its row leaves behind.

Every object the archive writes is named by a row: a record's or inbox item's original and
access copy, a record's masked copies (named after its sha256), a transfer's package;
audit anchors name themselves. Anything else under the archive's prefixes is an orphan.
One younger than the job lease may belong to an upload or job still under way, so only
older ones are removed.

Public surface: :class:`Orphan`, :func:`find_orphans`, :func:`remove_orphans`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import InboxItem, Record, Transfer
from storage import ObjectNotFound, ObjectStore, StorageError

log = logging.getLogger(__name__)

PREFIXES = ("originals/", "access/", "transfers/")


@dataclass(frozen=True)
class Orphan:
    key: str
    size: int
    modified: datetime | None


def _known(session: Session) -> tuple[set[str], set[str]]:
    """The keys rows name, and the sha256 of records (their masked copies' names)."""
    keys: set[str] = set()
    for original, access in session.execute(select(Record.original_key, Record.access_key)):
        keys.update(k for k in (original, access) if k)
    for original, access in session.execute(select(InboxItem.original_key,
                                                   InboxItem.access_key)):
        keys.update(k for k in (original, access) if k)
    keys.update(k for k in session.scalars(select(Transfer.package_key)) if k)
    shas = set(session.scalars(select(Record.sha256)))
    return keys, shas


def _named(session: Session, key: str) -> bool:
    """Whether a row names ``key`` now (asked again just before a removal)."""
    from sqlalchemy import or_

    sha = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return any(session.scalar(query.limit(1)) is not None for query in (
        select(Record.id).where(or_(Record.original_key == key, Record.access_key == key,
                                    Record.sha256 == sha)),
        select(InboxItem.id).where(or_(InboxItem.original_key == key,
                                       InboxItem.access_key == key)),
        select(Transfer.id).where(Transfer.package_key == key)))


def _masked_copy_of(key: str, shas: set[str]) -> bool:
    name = key.rsplit("/", 1)[-1]
    return ".masked-" in name and name.split(".masked-", 1)[0] in shas


def find_orphans(session: Session, store: ObjectStore) -> list[Orphan]:
    """Every object under the archive's prefixes that no row names."""
    keys, shas = _known(session)
    orphans = []
    for prefix in PREFIXES:
        for key in store.keys(prefix):
            if key in keys or _masked_copy_of(key, shas):
                continue
            try:
                info = store.stat(key)
            except ObjectNotFound:  # gone meanwhile
                continue
            except StorageError:  # unreadable metadata: an orphan all the same, of no age
                orphans.append(Orphan(key, 0, None))
                continue
            orphans.append(Orphan(key, info.size, info.modified))
    return orphans


def remove_orphans(sessions: sessionmaker[Session], store: ObjectStore,
                   orphans: Iterable[Orphan], *, now: datetime, older_than: timedelta
                   ) -> tuple[list[Orphan], list[tuple[Orphan, str]]]:
    """Remove the orphans older than ``older_than``: (removed, (kept, why)). Just before
    each removal the object is looked at again, its age and whether a row names it now
    (an upload of the same file may have been committed since the list was made)."""
    removed, kept = [], []
    for orphan in orphans:
        if orphan.modified is None:
            kept.append((orphan, "its metadata cannot be read: look at it by hand"))
            continue
        try:
            current = store.stat(orphan.key).modified
        except StorageError:
            current = None
        if current is None or now - current < older_than:
            kept.append((orphan, "younger than the job lease: an upload may be under way"))
            continue
        with sessions() as session:
            if _named(session, orphan.key):
                kept.append((orphan, "named by a row since it was listed"))
                continue
        try:
            store.delete(orphan.key)
        except StorageError as exc:  # locked by hand, or storage away
            kept.append((orphan, str(exc)))
            continue
        log.warning("removed orphan object %s", orphan.key)
        removed.append(orphan)
    return removed, kept
