"""Root settings, built from each package's sub-model (``ARCHIVE_*``, nested with ``__``).

Examples: ``ARCHIVE_DATABASE_URL=postgresql+psycopg://…``,
``ARCHIVE_STORAGE__BACKEND=minio``, ``ARCHIVE_STORAGE__MINIO__ENDPOINT=127.0.0.1:9000``,
``ARCHIVE_SEARCH__BACKEND=elasticsearch``, ``ARCHIVE_AUTH__SECRET_KEY=…``.

Public surface: :class:`Settings`, :class:`AuthSettings`, :func:`get_settings`.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.settings import IngestSettings
from search.settings import SearchSettings
from storage.settings import StorageSettings


class AuthSettings(BaseModel):
    # Empty means "generate one per process": fine for development, refused in production.
    secret_key: SecretStr = SecretStr("")
    token_minutes: int = 60
    algorithm: Literal["HS256"] = "HS256"


class AuditSettings(BaseModel):
    # HMAC key of the audit chain; kept outside the database and outside the data folder.
    # Given as the value, or as a file holding it (a container secret). Empty: a random
    # key in the data folder (development only; production refuses one there).
    hmac_key: SecretStr = SecretStr("")
    hmac_key_file: Path | None = None
    # The chain head is anchored in object storage every so many events, every so many
    # seconds while it moves, and at shutdown; each anchor is locked for so many days.
    anchor_seconds: float = 300.0
    anchor_every_events: int = Field(1000, ge=1)
    anchor_retention_days: int = Field(3650, ge=1)
    # compliance: nobody removes an anchor early; governance: a bypassing delete may
    # (test installations, whose buckets are emptied).
    anchor_lock: Literal["compliance", "governance"] = "compliance"

    @property
    def key(self) -> bytes:
        return self.hmac_key.get_secret_value().encode()


class DispatchSettings(BaseModel):
    """How jobs reach workers (``ARCHIVE_DISPATCH__BACKEND``): ``database`` — workers poll
    the database, one machine, no server; ``dramatiq`` — Dramatiq on Redis, workers on any
    machine with the shared backends' settings. Either way the database is the record of
    every job: a message carries only a job id, and the claim fences duplicates."""

    backend: Literal["database", "dramatiq"] = "database"
    redis_url: SecretStr = SecretStr("")  # redis://:password@host:6379/0
    namespace: str = Field("archive", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")  # its Redis keys
    # A queued job no worker has taken for this long is announced again (a message lost
    # with Redis, or sent while it was down); a message is given up after this long.
    sweep_seconds: float = Field(15.0, gt=0)
    time_limit_seconds: float = Field(3600.0, gt=0)


class ArchiveNumberSettings(BaseModel):
    """Parts of the 档号 (archive number) that are fixed for one archive."""

    fonds: str = "0421"  # 全宗号
    class_code: str = "KH"  # 门类代码: 客户档案
    organisation: str = "YX"  # 机构(问题)代码: 营销


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ARCHIVE_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""  # default: SQLite in data_dir
    root_unit: str = "root"
    root_unit_name: str = "供电公司"
    max_upload_bytes: int = 200 * 1024 * 1024
    # Searches per user (a moving window for each part; see archive.services.throttle):
    # enough for a clerk at work, far too few to use search as an oracle. Empty: no limit.
    search_rate_limit: str = "30/10seconds;1200/hour"
    # Reverse proxies (addresses or networks) whose X-Forwarded-For the audit trail
    # believes; from anyone else the header is ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    # The web process runs the ingest workers itself (single-machine default); with False,
    # run `archive worker` beside it.
    embedded_worker: bool = True
    # The built web application (`npm run build` in web/): served at /.
    web_dir: Path = Path(__file__).resolve().parent.parent / "web" / "dist"
    # Worker processes (OCR is CPU-bound): None = one per core; 0 = a thread of the calling
    # process (tests, tiny installs).
    worker_processes: int | None = None
    worker_poll_seconds: float = 0.5
    # A running job's lease, renewed by its worker; a job whose worker died is taken up
    # again when its lease has run out.
    job_lease_seconds: float = 120.0
    job_max_attempts: int = 4
    job_backoff_seconds: float = 5.0  # doubled after every failed attempt
    auth: AuthSettings = AuthSettings()
    audit: AuditSettings = AuditSettings()
    archive_number: ArchiveNumberSettings = ArchiveNumberSettings()
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    # GET /api/v1/metrics answers only a scraper sending this token (Authorization: Bearer);
    # empty: metrics are not served at all. Samples of this host's processes are kept in
    # metrics_dir (default <data_dir>/metrics).
    metrics_token: SecretStr = SecretStr("")
    metrics_dir: Path | None = None
    storage: StorageSettings = Field(default_factory=StorageSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)

    @model_validator(mode="after")
    def _defaults_under_data_dir(self) -> Settings:
        # Relative default paths follow data_dir so one variable moves all local state.
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'archive.db'}"
        if self.storage.filesystem.root == Path("var/objects"):
            self.storage.filesystem.root = self.data_dir / "objects"
        if self.search.embedded.path == Path("var/search.db"):
            self.search.embedded.path = self.data_dir / "search.db"
        if self.metrics_dir is None:
            self.metrics_dir = self.data_dir / "metrics"
        return self

    @model_validator(mode="after")
    def _read_key_files(self) -> Settings:
        path = self.audit.hmac_key_file
        if path is not None:
            try:
                self.audit.hmac_key = SecretStr(path.read_text().strip())
            except OSError as exc:
                raise ValueError(f"ARCHIVE_AUDIT__HMAC_KEY_FILE {path}: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _valid_proxies(self) -> Settings:
        import ipaddress

        for network in self.trusted_proxies:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"ARCHIVE_TRUSTED_PROXIES: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _broker_named(self) -> Settings:
        if self.dispatch.backend == "dramatiq" and not self.dispatch.redis_url.get_secret_value():
            raise ValueError("ARCHIVE_DISPATCH__BACKEND=dramatiq needs "
                             "ARCHIVE_DISPATCH__REDIS_URL (redis://:password@host:6379/0)")
        return self

    @model_validator(mode="after")
    def _valid_rate_limits(self) -> Settings:
        from limits import parse_many

        if self.search_rate_limit.strip():
            try:
                parse_many(self.search_rate_limit)
            except ValueError as exc:
                raise ValueError(f"ARCHIVE_SEARCH_RATE_LIMIT: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment != "production":
            if not self.auth.secret_key.get_secret_value():
                self.auth.secret_key = SecretStr(_development_secret(self.data_dir,
                                                                     "secret.key"))
            if not self.audit.hmac_key.get_secret_value():
                self.audit.hmac_key = SecretStr(_development_secret(self.data_dir, "audit.key"))
            return self
        key = self.auth.secret_key.get_secret_value()
        if len(key) < 32:
            raise ValueError("ARCHIVE_AUTH__SECRET_KEY must be set to 32+ characters in production")
        if len(self.audit.hmac_key.get_secret_value()) < 32:
            raise ValueError("ARCHIVE_AUDIT__HMAC_KEY must be set to 32+ characters in production")
        data = self.data_dir.resolve()
        key_file = self.audit.hmac_key_file
        if (key_file is not None and key_file.resolve().is_relative_to(data)) or (
                data / "audit.key").exists():
            raise ValueError(
                "the audit key must not be stored in the data folder in production: whoever "
                "holds the data folder could rewrite the chain; keep it in a secret outside "
                f"{data} (ARCHIVE_AUDIT__HMAC_KEY or ARCHIVE_AUDIT__HMAC_KEY_FILE) and remove "
                f"{data / 'audit.key'}")
        if self.storage.backend == "minio" and not self.storage.minio.secret_key.get_secret_value():
            raise ValueError("ARCHIVE_STORAGE__MINIO__SECRET_KEY must be set in production")
        return self


def _development_secret(data_dir: Path, name: str) -> str:
    """A random key kept in the data folder, so tokens and the chain survive a restart."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
