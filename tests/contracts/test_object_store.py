"""ObjectStore contract: every backend passes the same behaviour suite."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    ChecksumMismatch,
    InvalidKey,
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    verify_object,
)

MB = 1024 * 1024


class PatternStream:
    """A readable stream of ``size`` deterministic bytes that never holds them all."""

    def __init__(self, size: int, seed: bytes = b"archive") -> None:
        self.remaining = size
        self.position = 0
        self.block = hashlib.sha256(seed).digest() * (MB // 32)  # 1 MiB pattern

    def read(self, n: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        n = self.remaining if n is None or n < 0 else min(n, self.remaining)
        start = self.position % len(self.block)
        n = min(n, len(self.block) - start)
        self.remaining -= n
        self.position += n
        return self.block[start:start + n]


def expected_digest(size: int) -> str:
    digest = hashlib.sha256()
    stream = PatternStream(size)
    while chunk := stream.read(MB):
        digest.update(chunk)
    return digest.hexdigest()


def test_round_trip(store: ObjectStore) -> None:
    body = "供用电合同 第一页".encode() * 1000
    info = store.put("originals/ab/one.pdf", io.BytesIO(body), content_type="application/pdf")
    assert info.size == len(body)
    assert info.sha256 == hashlib.sha256(body).hexdigest()
    with store.get("originals/ab/one.pdf") as stream:
        assert stream.read() == body


def test_stat_reports_size_digest_and_type(store: ObjectStore) -> None:
    body = b"%PDF-1.7 test"
    store.put("a/b.pdf", io.BytesIO(body), content_type="application/pdf")
    info = store.stat("a/b.pdf")
    assert (info.size, info.sha256, info.content_type) == (
        len(body), hashlib.sha256(body).hexdigest(), "application/pdf")


def test_put_with_expected_digest(store: ObjectStore) -> None:
    body = b"scan"
    info = store.put("k", io.BytesIO(body), sha256=hashlib.sha256(body).hexdigest())
    assert store.stat("k").sha256 == info.sha256


def test_exists_and_delete(store: ObjectStore) -> None:
    store.put("x/y", io.BytesIO(b"1"))
    assert store.exists("x/y")
    store.delete("x/y")
    assert not store.exists("x/y")
    with pytest.raises(ObjectNotFound):
        store.get("x/y")
    with pytest.raises(ObjectNotFound):
        store.stat("x/y")
    with pytest.raises(ObjectNotFound):
        store.delete("x/y")


def test_retention_refuses_delete_unless_the_application_bypasses_it(
        store: ObjectStore) -> None:
    store.put("originals/a", io.BytesIO(b"signed contract"))
    assert store.locks("originals/a").retain_until is None
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    store.set_retention("originals/a", until)
    assert abs(store.locks("originals/a").retain_until - until) < timedelta(seconds=1)
    with pytest.raises(ObjectLocked):
        store.delete("originals/a")
    assert store.exists("originals/a")
    store.set_retention("originals/a", until + timedelta(days=1))  # extending is allowed
    store.delete("originals/a", governance_bypass=True)
    assert not store.exists("originals/a")
    with pytest.raises(ObjectNotFound):
        store.get("originals/a")


def test_a_legal_hold_refuses_every_delete_until_lifted(store: ObjectStore) -> None:
    store.put("originals/p", io.BytesIO(b"permanent record"))
    store.set_legal_hold("originals/p", True)
    assert store.locks("originals/p").legal_hold
    for bypass in (False, True):
        with pytest.raises(ObjectLocked):
            store.delete("originals/p", governance_bypass=bypass)
    with store.get("originals/p") as stream:
        assert stream.read() == b"permanent record"
    store.set_legal_hold("originals/p", False)
    assert not store.locks("originals/p").legal_hold
    store.delete("originals/p")
    assert not store.exists("originals/p")


def test_missing_object(store: ObjectStore) -> None:
    assert not store.exists("never/written")
    with pytest.raises(ObjectNotFound):
        store.get("never/written")


def test_overwrite_replaces_content(store: ObjectStore) -> None:
    store.put("k", io.BytesIO(b"old"))
    store.put("k", io.BytesIO(b"new"))
    with store.get("k") as stream:
        assert stream.read() == b"new"


def test_checksum_mismatch_leaves_nothing(store: ObjectStore) -> None:
    with pytest.raises(ChecksumMismatch):
        store.put("bad", io.BytesIO(b"actual bytes"), sha256="0" * 64)
    assert not store.exists("bad")


def test_corruption_is_detected_by_verify(store: ObjectStore) -> None:
    """GIVEN an object whose stored digest no longer matches its bytes
    WHEN it is verified THEN ChecksumMismatch names it."""
    store.put("v", io.BytesIO(b"original"))
    assert verify_object(store, "v").sha256 == hashlib.sha256(b"original").hexdigest()
    # Overwrite the bytes behind the store's back, keeping the old recorded digest.
    _tamper(store, "v", b"tampered")
    with pytest.raises(ChecksumMismatch) as excinfo:
        verify_object(store, "v")
    assert excinfo.value.key == "v"


def _tamper(store: ObjectStore, key: str, body: bytes) -> None:
    from storage.filesystem import FilesystemStore
    from storage.minio import MinioStore

    if isinstance(store, FilesystemStore):
        path = store.root / "data" / key
        path.chmod(0o644)
        path.write_bytes(body)
    elif isinstance(store, MinioStore):
        old = store.stat(key).sha256
        store.client.put_object(store.bucket, key, io.BytesIO(body), len(body),
                                metadata={"sha256": old})
    else:  # pragma: no cover
        raise AssertionError(type(store))


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "", "a//b", "./a", "a/./b", "a\\b", "a/\x00",
            "a/..", "家/x"],
)
def test_escaping_keys_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, io.BytesIO(b"x"))
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(InvalidKey):
        store.exists(key)


def test_300_mb_stream_in_and_out_with_bounded_memory(store: ObjectStore) -> None:
    """GIVEN a 300 MB upload WHEN it is stored and read back
    THEN peak Python memory stays under 100 MB and the digest matches."""
    size = 300 * MB
    tracemalloc.start()
    try:
        info = store.put("big/blob", PatternStream(size))
        _, peak_put = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        read = 0
        with store.get("big/blob") as stream:
            while chunk := stream.read(MB):
                digest.update(chunk)
                read += len(chunk)
        _, peak_get = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.size == read == size
    assert info.sha256 == digest.hexdigest() == expected_digest(size)
    assert peak_put < 100 * MB, f"put peaked at {peak_put / MB:.0f} MB"
    assert peak_get < 100 * MB, f"get peaked at {peak_get / MB:.0f} MB"


def test_keys_lists_a_prefix_in_order(store: ObjectStore) -> None:
    for key in ("anchors/0002.json", "anchors/0001.json", "anchorsx/0003", "other/0004"):
        store.put(key, io.BytesIO(b"{}"))
    assert list(store.keys("anchors/")) == ["anchors/0001.json", "anchors/0002.json"]
    assert list(store.keys("nothing/")) == []
    assert len(list(store.keys(""))) == 4
    with pytest.raises(InvalidKey):
        list(store.keys("../"))


def test_compliance_retention_binds_the_application_too(store: ObjectStore) -> None:
    """An audit anchor is kept in compliance mode: no bypass removes it before its date,
    and a later retention call does not turn it back into governance mode."""
    store.put("audit-anchors/a", io.BytesIO(b'{"seq": 1}'))
    until = datetime.now(UTC) + timedelta(seconds=3)
    store.set_retention("audit-anchors/a", until, compliance=True)
    assert store.locks("audit-anchors/a").compliance
    store.set_retention("audit-anchors/a", until + timedelta(seconds=1))
    assert store.locks("audit-anchors/a").compliance
    for bypass in (False, True):
        with pytest.raises(ObjectLocked):
            store.delete("audit-anchors/a", governance_bypass=bypass)
    time.sleep(max(0.0, (until + timedelta(seconds=1.5) - datetime.now(UTC)).total_seconds()))
    store.delete("audit-anchors/a")  # once the date has passed
