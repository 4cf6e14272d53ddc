"""MinioStore: objects in an S3 bucket through the official ``minio`` client.

Only plain S3 calls are used, so the store also works against other S3-compatible
services. The sha256 of every object is kept as user metadata (``x-amz-meta-sha256``).

With ``object_lock`` the bucket is made with S3 Object Lock (WORM), which also versions
it: a plain DELETE would only hide an object behind a delete marker, so ``delete`` removes
every version of the key, and the storage refuses it for a version under retention or a
legal hold. The application's own deletes of objects under retention send the governance
bypass header; its credentials need ``s3:BypassGovernanceRetention`` for that.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE, REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention

from storage.base import (
    HashingReader,
    LockState,
    ObjectInfo,
    check_digest,
    normalise_key,
    normalise_prefix,
)
from storage.errors import (
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)
from storage.settings import MinioSettings

_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchVersion"}
_LOCKED = {"AccessDenied", "ObjectLocked", "InvalidRequest"}
_LOCK_WORDS = ("retention", "worm", "legal hold", "locked")
_NO_LOCK = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError",
            "InvalidRequest", "MethodNotAllowed"}


def _is_locked(code: str | None, message: str | None) -> bool:
    return code in _LOCKED and any(word in (message or "").lower() for word in _LOCK_WORDS)


@contextlib.contextmanager
def _translate(key: str) -> Iterator[None]:
    """Map client and transport errors onto the storage error tree."""
    try:
        yield
    except S3Error as exc:
        if exc.code in _NOT_FOUND:
            raise ObjectNotFound(key) from exc
        if _is_locked(exc.code, exc.message):
            raise ObjectLocked(f"{key}: {exc.message}") from exc
        raise StorageError(f"{key}: {exc.code} {exc.message}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageUnavailable(f"object store unreachable: {exc}") from exc


class _ObjectStream:
    """A response body that returns its connection to the pool when closed."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def read(self, size: int = -1) -> bytes:
        return self._response.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()

    def __enter__(self) -> _ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MinioStore:
    def __init__(self, settings: MinioSettings) -> None:
        self.settings = settings
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=120.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
            maxsize=16,
        )
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )
        self.bucket = settings.bucket
        self._bucket_ready = False

    def ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with _translate(self.bucket):
            if not self.client.bucket_exists(self.bucket):
                with contextlib.suppress(S3Error):  # created meanwhile by another worker
                    self.client.make_bucket(self.bucket, object_lock=self.settings.object_lock)
        self._bucket_ready = True

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        sha256: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> ObjectInfo:
        key = normalise_key(key)
        self.ensure_bucket()
        reader = HashingReader(stream)
        if sha256 is not None:
            sha256 = sha256.lower()
            with _translate(key):
                written = self.client.put_object(
                    self.bucket, key, reader, length=-1, part_size=self.settings.part_size,
                    content_type=content_type, metadata={"sha256": sha256},
                )
            try:
                check_digest(key, sha256, reader.hexdigest)
            except Exception:
                with _translate(key):
                    self.client.remove_object(self.bucket, key, version_id=written.version_id)
                raise
            return ObjectInfo(key, reader.size, sha256, content_type)
        # Unknown digest: stage under a private key, then publish with the digest attached,
        # so no reader ever sees the object without its checksum.
        staging = f".staging/{uuid.uuid4().hex}"
        with _translate(key):
            staged = self.client.put_object(
                self.bucket, staging, reader, length=-1, part_size=self.settings.part_size,
                content_type=content_type,
            )
            try:
                self.client.copy_object(
                    self.bucket, key, CopySource(self.bucket, staging),
                    metadata={"sha256": reader.hexdigest, "Content-Type": content_type},
                    metadata_directive=REPLACE,
                )
            finally:
                self.client.remove_object(self.bucket, staging, version_id=staged.version_id)
        return ObjectInfo(key, reader.size, reader.hexdigest, content_type)

    def get(self, key: str) -> BinaryIO:
        key = normalise_key(key)
        self.ensure_bucket()
        with _translate(key):
            return _ObjectStream(self.client.get_object(self.bucket, key))  # type: ignore[return-value]

    def stat(self, key: str) -> ObjectInfo:
        key = normalise_key(key)
        self.ensure_bucket()
        with _translate(key):
            result = self.client.stat_object(self.bucket, key)
        metadata = {k.lower(): v for k, v in (result.metadata or {}).items()}
        return ObjectInfo(
            key,
            result.size or 0,
            metadata.get("x-amz-meta-sha256", ""),
            result.content_type or "application/octet-stream",
            result.last_modified,
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str, *, governance_bypass: bool = False) -> None:
        self.stat(key)  # raises ObjectNotFound
        with _translate(key):
            versions = [DeleteObject(key, obj.version_id) for obj in self.client.list_objects(
                self.bucket, prefix=key, include_version=True) if obj.object_name == key]
            errors = list(self.client.remove_objects(
                self.bucket, versions, bypass_governance_mode=governance_bypass))
        if errors:
            first = errors[0]
            if _is_locked(first.code, first.message):
                raise ObjectLocked(f"{key}: {first.message}")
            raise StorageError(f"{key}: {first.code} {first.message}")

    def keys(self, prefix: str) -> Iterator[str]:
        prefix = normalise_prefix(prefix)
        self.ensure_bucket()
        with _translate(prefix or self.bucket):
            names = sorted(obj.object_name for obj in
                           self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                           if obj.object_name and not obj.object_name.startswith(".staging/"))
        return iter(names)

    def set_retention(self, key: str, until: datetime, *, compliance: bool = False) -> None:
        key = normalise_key(key)
        with _translate(key):
            if not compliance:  # a compliance lock is never turned back into governance
                current = self.locks(key)
                compliance = current.compliance and current.retain_until is not None
            self.client.set_object_retention(
                self.bucket, key, Retention(COMPLIANCE if compliance else GOVERNANCE, until))

    def set_legal_hold(self, key: str, on: bool) -> None:
        key = normalise_key(key)
        with _translate(key):
            if on:
                self.client.enable_object_legal_hold(self.bucket, key)
            else:
                self.client.disable_object_legal_hold(self.bucket, key)

    def locks(self, key: str) -> LockState:
        self.stat(key)  # raises ObjectNotFound
        if not self.settings.object_lock:
            return LockState()
        with _translate(key):
            try:
                retention = self.client.get_object_retention(self.bucket, key)
            except S3Error as exc:
                if exc.code not in _NO_LOCK:
                    raise
                retention = None
            hold = self.client.is_object_legal_hold_enabled(self.bucket, key)
        return LockState(retention.retain_until_date if retention else None, hold,
                         bool(retention and retention.mode == COMPLIANCE))

    def ping(self) -> None:
        with _translate(self.bucket):
            self.client.bucket_exists(self.bucket)
