"""The ObjectStore protocol and the logic every backend shares.

Public surface: :class:`ObjectStore`, :class:`ObjectInfo`, :class:`LockState`,
:func:`normalise_key`,
:class:`HashingReader`, :func:`verify_object`, ``CHUNK_SIZE``.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

from storage.errors import ChecksumMismatch, InvalidKey

CHUNK_SIZE = 1024 * 1024
_KEY_PART = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str
    content_type: str = "application/octet-stream"
    modified: datetime | None = field(default=None, compare=False)  # when stored (by stat)


@dataclass(frozen=True)
class LockState:
    """What keeps an object from being deleted: a retention date, a legal hold, both."""

    retain_until: datetime | None = None
    legal_hold: bool = False
    compliance: bool = False  # the retention binds everyone: no bypass shortens it


@runtime_checkable
class ObjectStore(Protocol):
    """A flat store of immutable byte objects addressed by slash-separated keys.

    Contract every backend MUST keep:
    - Keys are normalised by :func:`normalise_key`; a key that is empty, absolute, holds
      ``..`` or characters outside ``[A-Za-z0-9._-/]`` MUST raise :class:`InvalidKey`
      before any I/O, so no key can reach outside the store.
    - ``put`` MUST stream: memory use is bounded by a constant chunk size, never by the
      object's size. It MUST compute the sha256 of the bytes written and return it in
      :class:`ObjectInfo`. If ``sha256`` is given and differs, it MUST raise
      :class:`ChecksumMismatch` and leave no object under the key. A reader never sees a
      partly written object.
    - ``get`` MUST return a readable binary stream that the caller closes; a missing key
      MUST raise :class:`ObjectNotFound`.
    - ``stat`` returns size and sha256 as recorded by ``put``; missing → ObjectNotFound.
    - ``delete`` of a missing key MUST raise ObjectNotFound. It removes every trace of the
      bytes (on a versioned bucket, every version). An object under a legal hold, or under
      retention, MUST raise :class:`ObjectLocked`; ``governance_bypass`` lets the
      application remove an object under retention (governance mode) once its own rules
      allowed it, never one under a legal hold.
    - ``keys(prefix)`` lists the keys under a prefix (``"a/"``) in lexical order.
    - ``set_retention`` makes the object undeletable until ``until`` (WORM, governance
      mode: only a bypassing delete removes it earlier); it may extend, not shorten. With
      ``compliance`` nothing removes it earlier, a bypass neither (compliance mode), and
      it stays in compliance mode.
      ``set_legal_hold`` makes it undeletable until the hold is lifted; ``locks`` says
      which of the two hold it.
    - Backend outages MUST surface as :class:`StorageUnavailable`.
    """

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        sha256: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> ObjectInfo: ...

    def get(self, key: str) -> BinaryIO: ...

    def stat(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str, *, governance_bypass: bool = False) -> None: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def set_retention(self, key: str, until: datetime, *, compliance: bool = False
                      ) -> None: ...

    def set_legal_hold(self, key: str, on: bool) -> None: ...

    def locks(self, key: str) -> LockState: ...

    def ping(self) -> None: ...


def normalise_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a valid key followed by "/"."""
    if prefix == "":
        return prefix
    if not prefix.endswith("/"):
        raise InvalidKey(f"a prefix ends with '/': {prefix!r}")
    return normalise_key(prefix[:-1]) + "/"


def normalise_key(key: str) -> str:
    """Return the canonical form of ``key`` or raise InvalidKey if it could escape."""
    if not isinstance(key, str) or not key or "\\" in key or "\x00" in key:
        raise InvalidKey(f"invalid object key: {key!r}")
    if key.startswith("/"):
        raise InvalidKey(f"object key must be relative: {key!r}")
    parts = key.split("/")
    if any(part in ("", ".", "..") or not _KEY_PART.match(part) for part in parts):
        raise InvalidKey(f"invalid object key: {key!r}")
    normalised = posixpath.normpath(key)
    if normalised != key:  # pragma: no cover - guarded by the part check above
        raise InvalidKey(f"invalid object key: {key!r}")
    return normalised


class HashingReader:
    """Wraps a binary stream, hashing and counting the bytes read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def iter_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        yield chunk


def check_digest(key: str, expected: str | None, actual: str) -> None:
    if expected is not None and expected.lower() != actual:
        raise ChecksumMismatch(key, expected.lower(), actual)


def verify_object(store: ObjectStore, key: str) -> ObjectInfo:
    """Re-read an object and check it against the sha256 recorded at ``put``."""
    info = store.stat(key)
    digest = hashlib.sha256()
    stream = store.get(key)
    try:
        for chunk in iter_chunks(stream):
            digest.update(chunk)
    finally:
        stream.close()
    check_digest(key, info.sha256, digest.hexdigest())
    return info
