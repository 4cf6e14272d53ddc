"""Domain errors raised by services; ``archive.app`` maps them to HTTP in one place.

    ArchiveError                      status  code
    ├── InvalidInput                   422    invalid_input
    ├── PayloadTooLarge                413    payload_too_large
    ├── UnsupportedMedia               415    unsupported_media_type
    ├── NotAuthenticated               401    not_authenticated
    ├── PermissionDenied               403    forbidden
    │   └── PasswordChangeRequired     403    password_change_required (after a reset)
    ├── NotFound                       404    not_found
    ├── RateLimited                    429    rate_limited (Retry-After)
    ├── Conflict                       409    conflict
    │   ├── DuplicateRecord            409    duplicate_record (the existing id, if in reach)
    │   └── SeparationOfDuties         409    separation_of_duties (names the invariant)
    ├── Locked                         423    locked (retention or a legal hold in storage)
    ├── IntegrityFault                 500    integrity_error (an event id for the log)
    └── BackendUnavailable             503    backend_unavailable (Retry-After)

:func:`storage_failure` gives the error of a :class:`storage.StorageError`.
"""

from __future__ import annotations

import logging
import uuid

from storage import ChecksumMismatch, InvalidKey, ObjectLocked, ObjectNotFound, StorageError

log = logging.getLogger(__name__)


class ArchiveError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extra(self) -> dict[str, object]:
        return {}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(ArchiveError):
    status = 422
    code = "invalid_input"


class PayloadTooLarge(ArchiveError):
    status = 413
    code = "payload_too_large"


class UnsupportedMedia(ArchiveError):
    status = 415
    code = "unsupported_media_type"


class NotAuthenticated(ArchiveError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(ArchiveError):
    status = 403
    code = "forbidden"


class PasswordChangeRequired(PermissionDenied):
    code = "password_change_required"


class CsrfRefused(PermissionDenied):
    """A request signed in by the session cookie changes something without its CSRF token."""

    code = "csrf_failed"


class NotFound(ArchiveError):
    status = 404
    code = "not_found"


class RateLimited(ArchiveError):
    """Too many requests of one kind from one user; ``audit`` marks the first of a burst."""

    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int, audit: bool) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.audit = audit

    def extra(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Conflict(ArchiveError):
    status = 409
    code = "conflict"


class Gone(ArchiveError):
    """The object existed and was destroyed under the retention rules (销毁)."""

    status = 410
    code = "destroyed"


class DuplicateRecord(Conflict):
    code = "duplicate_record"

    def __init__(self, detail: str, *, record_id: str | None = None) -> None:
        super().__init__(detail)
        self.record_id = record_id  # only when the caller may see it

    def extra(self) -> dict[str, object]:
        return {"record_id": self.record_id} if self.record_id else {}


class SeparationOfDuties(Conflict):
    """An edit of the policy, a grant or an account that would break 三员分立."""

    code = "separation_of_duties"

    def __init__(self, invariant: str, detail: str) -> None:
        super().__init__(f"三员分立 separation of duties ({invariant}): {detail}")
        self.invariant = invariant

    def extra(self) -> dict[str, object]:
        return {"invariant": self.invariant}


class Locked(ArchiveError):
    status = 423
    code = "locked"


class IntegrityFault(ArchiveError):
    """What the archive holds is not what it recorded (a checksum differs, an object or a
    row is missing, a constraint broke): the answer carries an event id, the log the rest."""

    status = 500
    code = "integrity_error"

    def __init__(self, detail: str) -> None:
        self.event_id = uuid.uuid4().hex[:16]
        log.error("integrity fault %s: %s", self.event_id, detail)
        super().__init__(f"the archive found a fault in what it holds; it is logged as "
                         f"event {self.event_id}")

    def extra(self) -> dict[str, object]:
        return {"event_id": self.event_id}


def storage_failure(exc: StorageError, what: str = "object storage") -> ArchiveError:
    """The answer to a storage error: a lock is 423, a fault in what is stored (a checksum,
    a missing object, a bad key) 500 with an event id, an outage 503."""
    if isinstance(exc, ObjectLocked):
        return Locked(f"{what}: {exc}")
    if isinstance(exc, ChecksumMismatch | ObjectNotFound | InvalidKey):
        return IntegrityFault(f"{what}: {exc}")
    return BackendUnavailable(f"{what}: {exc}")


class BackendUnavailable(ArchiveError):
    status = 503
    code = "backend_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
