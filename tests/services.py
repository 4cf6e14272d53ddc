"""Where the test suite finds the real services (``ARCHIVE_TEST_*``), and what to do if not.

A test that needs a service skips only when that service is not configured, unless
``ARCHIVE_TEST_REQUIRE_SERVICES=1`` (set by CI), where a missing service fails the run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def _missing(what: str) -> None:
    if os.environ.get("ARCHIVE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required in this run but not configured", pytrace=False)
    pytest.skip(f"{what} not configured")


def es_url() -> str:
    url = os.environ.get("ARCHIVE_TEST_ES_URL")
    if not url:
        _missing("Elasticsearch (ARCHIVE_TEST_ES_URL)")
    return url  # type: ignore[return-value]


def minio_config() -> dict[str, str]:
    endpoint = os.environ.get("ARCHIVE_TEST_MINIO_ENDPOINT")
    if not endpoint:
        _missing("MinIO (ARCHIVE_TEST_MINIO_ENDPOINT)")
    return {
        "endpoint": endpoint,  # type: ignore[dict-item]
        "access_key": os.environ.get("ARCHIVE_TEST_MINIO_ACCESS_KEY", ""),
        "secret_key": os.environ.get("ARCHIVE_TEST_MINIO_SECRET_KEY", ""),
    }


def pg_url() -> str:
    url = os.environ.get("ARCHIVE_TEST_PG_URL")
    if not url:
        _missing("PostgreSQL (ARCHIVE_TEST_PG_URL)")
    return url  # type: ignore[return-value]


def redis_url() -> str:
    url = os.environ.get("ARCHIVE_TEST_REDIS_URL")
    if not url:
        _missing("Redis (ARCHIVE_TEST_REDIS_URL)")
    return url  # type: ignore[return-value]


def drop_redis_namespace(url: str, namespace: str) -> None:
    """Remove a test's queues (every key of its Dramatiq namespace)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def require_tesseract() -> None:
    if shutil.which("tesseract") is None:
        _missing("tesseract")


def chromium() -> str:
    """Debian's Chromium, for browser tests (``scripts/services.sh install`` adds it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        _missing("chromium")
    return found  # type: ignore[return-value]


def empty_bucket(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    """Remove a test bucket with every version in it, locked ones included (legal holds
    lifted, governance retention bypassed: the test credentials are MinIO's root)."""
    from minio.deleteobjects import DeleteObject
    from minio.error import S3Error

    if not client.bucket_exists(bucket):
        return
    versions = list(client.list_objects(bucket, recursive=True, include_version=True))
    for obj in versions:
        if obj.is_delete_marker:
            continue
        try:
            if client.is_object_legal_hold_enabled(bucket, obj.object_name, obj.version_id):
                client.disable_object_legal_hold(bucket, obj.object_name, obj.version_id)
        except S3Error:  # a bucket without object lock
            pass
    errors = list(client.remove_objects(
        bucket, [DeleteObject(obj.object_name, obj.version_id) for obj in versions],
        bypass_governance_mode=True))
    assert not errors, errors
    client.remove_bucket(bucket)
