"""FilesystemStore: the embedded default, objects as files under one root folder.

Each object is ``<root>/data/<key>`` with a JSON sidecar ``<root>/meta/<key>.json``
holding its size, sha256, content type, retention date and legal hold. Writes go to
``<root>/tmp`` first and are renamed into place, so a crash never leaves a partial object.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat as stat_module
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    CHUNK_SIZE,
    HashingReader,
    LockState,
    ObjectInfo,
    check_digest,
    normalise_key,
    normalise_prefix,
)
from storage.errors import (
    InvalidKey,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)
from storage.settings import FilesystemSettings


class FilesystemStore:
    def __init__(self, settings: FilesystemSettings) -> None:
        self.root = Path(settings.root).resolve()
        for sub in ("data", "meta", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def _paths(self, key: str) -> tuple[Path, Path]:
        key = normalise_key(key)
        data = (self.root / "data" / key).resolve()
        meta = (self.root / "meta" / f"{key}.json").resolve()
        # normalise_key already forbids escapes; this guards against symlinked folders.
        if not data.is_relative_to(self.root / "data") or not meta.is_relative_to(
            self.root / "meta"
        ):
            raise InvalidKey(f"object key escapes the store: {key!r}")
        return data, meta

    def put(
        self,
        key: str,
        stream: BinaryIO,
        *,
        sha256: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> ObjectInfo:
        data_path, meta_path = self._paths(key)
        if meta_path.exists() and self._locked(meta_path):
            raise ObjectLocked(f"{key} is under retention or a legal hold")
        reader = HashingReader(stream)
        tmp = self.root / "tmp" / uuid.uuid4().hex
        try:
            with open(tmp, "wb") as out:
                while chunk := reader.read(CHUNK_SIZE):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            check_digest(key, sha256, reader.hexdigest)
            info = ObjectInfo(key, reader.size, reader.hexdigest, content_type)
            data_path.parent.mkdir(parents=True, exist_ok=True)
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            self._write_meta(meta_path, info, LockState())
            if data_path.exists():
                data_path.chmod(0o644)
            os.replace(tmp, data_path)
            data_path.chmod(0o444)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return info

    def get(self, key: str) -> BinaryIO:
        data_path, _ = self._paths(key)
        try:
            return open(data_path, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def stat(self, key: str) -> ObjectInfo:
        data_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            size, sha256, content_type = meta["size"], meta["sha256"], meta["content_type"]
        except FileNotFoundError:
            if data_path.exists():  # bytes no metadata describes: not an object of ours
                raise StorageError(f"{key}: its metadata is missing") from None
            raise ObjectNotFound(key) from None
        except (ValueError, KeyError, TypeError):
            raise StorageError(f"{key}: its metadata is unreadable") from None
        try:
            modified = datetime.fromtimestamp(data_path.stat().st_mtime, UTC)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        return ObjectInfo(key, size, sha256, content_type, modified)

    def exists(self, key: str) -> bool:
        data_path, meta_path = self._paths(key)
        return data_path.exists() and meta_path.exists()

    def delete(self, key: str, *, governance_bypass: bool = False) -> None:
        data_path, meta_path = self._paths(key)
        if not data_path.exists():
            raise ObjectNotFound(key)
        if meta_path.exists():
            locks = self._read_locks(meta_path)
            if locks.legal_hold:
                raise ObjectLocked(f"{key} is under a legal hold")
            if _retained(locks) and (locks.compliance or not governance_bypass):
                raise ObjectLocked(f"{key} is under retention until {locks.retain_until}")
        data_path.chmod(stat_module.S_IWUSR | stat_module.S_IRUSR)
        data_path.unlink()
        meta_path.unlink(missing_ok=True)

    def keys(self, prefix: str) -> Iterator[str]:
        prefix = normalise_prefix(prefix)
        base = self.root / "data"
        start = base / prefix if prefix else base
        if not start.is_dir():
            return iter(())
        found = sorted(p.relative_to(base).as_posix() for p in start.rglob("*") if p.is_file())
        return iter(found)

    def set_retention(self, key: str, until: datetime, *, compliance: bool = False) -> None:
        _data_path, meta_path = self._paths(key)
        info = self.stat(key)
        locks = self._read_locks(meta_path)
        if locks.retain_until and until < locks.retain_until:
            raise ObjectLocked(f"{key}: retention may be extended, not shortened")
        self._write_meta(meta_path, info,
                         LockState(until, locks.legal_hold, compliance or locks.compliance))

    def set_legal_hold(self, key: str, on: bool) -> None:
        _data_path, meta_path = self._paths(key)
        info = self.stat(key)
        locks = self._read_locks(meta_path)
        self._write_meta(meta_path, info, LockState(locks.retain_until, on, locks.compliance))

    def locks(self, key: str) -> LockState:
        _data_path, meta_path = self._paths(key)
        self.stat(key)
        return self._read_locks(meta_path)

    def ping(self) -> None:
        if not os.access(self.root / "data", os.W_OK):
            raise StorageUnavailable(f"{self.root} is not writable")
        usage = shutil.disk_usage(self.root)
        if usage.free < 16 * 1024 * 1024:
            raise StorageUnavailable(f"{self.root} is full")

    @staticmethod
    def _write_meta(path: Path, info: ObjectInfo, locks: LockState) -> None:
        body = {
            "size": info.size,
            "sha256": info.sha256,
            "content_type": info.content_type,
            "retain_until": locks.retain_until.isoformat() if locks.retain_until else None,
            "legal_hold": locks.legal_hold,
            "compliance": locks.compliance,
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(body, out)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _read_locks(meta_path: Path) -> LockState:
        meta = json.loads(meta_path.read_text())
        until = meta.get("retain_until")
        return LockState(datetime.fromisoformat(until) if until else None,
                         bool(meta.get("legal_hold")), bool(meta.get("compliance")))

    def _locked(self, meta_path: Path) -> bool:
        locks = self._read_locks(meta_path)
        return locks.legal_hold or _retained(locks)


def _retained(locks: LockState) -> bool:
    return locks.retain_until is not None and locks.retain_until > datetime.now(UTC)
