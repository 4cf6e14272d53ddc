"""Object storage for originals and derived files.

Public surface: :class:`ObjectStore` (the protocol), :class:`ObjectInfo`, :class:`LockState`,
:class:`HashingReader`, :func:`make_store`, :class:`StorageSettings` and the errors in
:mod:`storage.errors`.
"""

from storage.base import (
    HashingReader,
    LockState,
    ObjectInfo,
    ObjectStore,
    normalise_key,
    verify_object,
)
from storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)
from storage.factory import make_store
from storage.settings import StorageSettings

__all__ = [
    "ChecksumMismatch",
    "HashingReader",
    "InvalidKey",
    "LockState",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageSettings",
    "StorageUnavailable",
    "make_store",
    "normalise_key",
    "verify_object",
]
