"""Configuration: every environment variable the platform reads, with its documented default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from the environment; docs/operations.md has the table of every variable."""

    model_config = SettingsConfigDict(
        env_prefix="GOVSTORE_", extra="ignore", frozen=True, populate_by_name=True
    )

    data_dir: Path = Field(default=Path("./var"))
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GOVSTORE_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "GOVSTORE_REDIS_URL")
    )
    base_url: str = "http://127.0.0.1:8000"
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = None

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    api_token_max_days: int = Field(default=365, ge=1)
    # Requests per window per client address, and per bearer token.
    rate_limit_per_address: int = Field(default=1200, ge=1)
    rate_limit_per_token: int = Field(default=600, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # Failed logins per account and address before login is throttled.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    # argon2id cost; the defaults follow RFC 9106's second recommendation (64 MiB, 3 passes).
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    log_level: str = "INFO"
    # Key for secrets the platform must read back (webhook secrets); see marketplace/sealing.py.
    secret_key: str | None = None
    # Background jobs (arq): a job running longer is cancelled and its work left to the periodic
    # sweeps; arq also waits this long (plus 10 s) before re-running the job of a dead worker.
    job_timeout_seconds: int = Field(default=120, ge=1)
    # Hot-path caches, per process: a verified bearer token is trusted this long before it is
    # looked up again (this process's own revocations apply at once; other processes' within
    # this window), and a GET marked cacheable (the review queue) is served from memory this
    # long. 0 turns a cache off.
    token_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    response_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # Human review: how long a claim holds a release before it returns to the queue.
    review_lease_minutes: int = Field(default=30, ge=1)
    # Webhooks: attempts before a delivery is marked failed, and the request timeout.
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_backoff_seconds: float = Field(default=30.0, gt=0)
    # Signing keys for kitemark credentials and consent receipts: a PEM file (the same on every
    # host), or unset to generate one into <data dir>/signing-keys on first start.
    signing_key_file: Path | None = None
    # OAuth 2: lifetimes of authorization codes, access tokens issued to services, refresh
    # tokens; consents last at most this long (the citizen picks up to it).
    oauth_code_ttl_seconds: int = Field(default=60, ge=10, le=600)
    oauth_access_token_ttl_seconds: int = Field(default=600, ge=60, le=86400)
    oauth_refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    consent_max_days: int = Field(default=365, ge=1, le=3650)
    # Providers hear (webhook kitemark.expiring) this many days before a kitemark expires.
    kitemark_expiry_warning_days: int = Field(default=30, ge=1)
    oauth_retention_days: int = Field(default=30, ge=1, le=3650)
    # Complaints: this many open complaints about a service within the window (days) send its
    # live release back to human review.
    complaint_review_threshold: int = Field(default=5, ge=1)
    complaint_review_window_days: int = Field(default=30, ge=1)
    # Transparency log: pending entries are sequenced at least this often (sooner when a change
    # commits in this process), up to this many per batch and signed tree head.
    transparency_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    transparency_batch_size: int = Field(default=1000, ge=1, le=10000)

    # The built GOV.UK Frontend (node_modules/govuk-frontend/dist/govuk) the web pages serve;
    # unset means the one `npm ci` installed next to the code.
    frontend_dir: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("GOVSTORE_BASE_URL must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator(
        "database_url",
        "redis_url",
        "bootstrap_admin_email",
        "secret_key",
        "signing_key_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'govstore.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def base_url_is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in {"localhost", "::1"} or host.startswith("127.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
