"""Settings sub-model of the storage package (``ARCHIVE_STORAGE__*``)."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, SecretStr


class FilesystemSettings(BaseModel):
    root: Path = Path("var/objects")


class MinioSettings(BaseModel):
    endpoint: str = "127.0.0.1:9000"
    access_key: str = ""
    secret_key: SecretStr = SecretStr("")
    bucket: str = "archive"
    secure: bool = False
    region: str | None = None
    # Part size for streamed uploads of unknown length; bounds memory per upload.
    part_size: int = 16 * 1024 * 1024
    # Create the bucket with S3 Object Lock (WORM); needed for retention dates.
    object_lock: bool = False


class StorageSettings(BaseModel):
    backend: Literal["filesystem", "minio"] = "filesystem"
    filesystem: FilesystemSettings = FilesystemSettings()
    minio: MinioSettings = MinioSettings()
