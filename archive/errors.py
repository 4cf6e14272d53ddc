"""Domain errors raised by services; ``archive.app`` maps them to HTTP in one place.

    ArchiveError                      status  code
    ├── InvalidInput                   422    invalid_input
    ├── PayloadTooLarge                413    payload_too_large
    ├── UnsupportedMedia               415    unsupported_media_type
    ├── NotAuthenticated               401    not_authenticated
    ├── PermissionDenied               403    forbidden
    ├── NotFound                       404    not_found
    ├── RateLimited                    429    rate_limited (Retry-After)
    ├── Conflict                       409    conflict
    │   ├── DuplicateRecord            409    duplicate_record (the existing id, if in reach)
    │   └── SeparationOfDuties         409    separation_of_duties (names the invariant)
    └── BackendUnavailable             503    backend_unavailable
"""

from __future__ import annotations


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


class BackendUnavailable(ArchiveError):
    status = 503
    code = "backend_unavailable"
