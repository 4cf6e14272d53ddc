"""Pick the object store named in the settings."""

from storage.base import ObjectStore
from storage.settings import StorageSettings


def make_store(settings: StorageSettings) -> ObjectStore:
    if settings.backend == "minio":
        from storage.minio import MinioStore

        return MinioStore(settings.minio)
    from storage.filesystem import FilesystemStore

    return FilesystemStore(settings.filesystem)
