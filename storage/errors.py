"""Errors raised by every object store; vendor errors are translated into these.

    StorageError
    ├── InvalidKey            key is empty, absolute, or escapes the store's root
    ├── ObjectNotFound        no object under that key (also a FileNotFoundError)
    ├── ChecksumMismatch      the bytes written or read do not hash to the expected sha256
    ├── ObjectLocked          retention or legal hold forbids the change
    └── StorageUnavailable    the backend cannot be reached (retryable)
"""


class StorageError(Exception):
    """Base of all storage errors."""

    retryable = False


class InvalidKey(StorageError, ValueError):
    pass


class ObjectNotFound(StorageError, FileNotFoundError):
    pass


class ChecksumMismatch(StorageError):
    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"{key}: expected sha256 {expected}, got {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class ObjectLocked(StorageError, PermissionError):
    pass


class StorageUnavailable(StorageError):
    retryable = True
