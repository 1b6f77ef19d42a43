"""Settings: every variable in API.md, its default, and bad values refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from marketplace.settings import Settings

VARIABLES = [
    "GOVSTORE_DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "GOVSTORE_BASE_URL",
    "GOVSTORE_BOOTSTRAP_ADMIN_EMAIL",
    "GOVSTORE_BOOTSTRAP_ADMIN_PASSWORD",
    "GOVSTORE_MAX_BODY_BYTES",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.data_dir == Path("./var")
    assert settings.database_url is None and settings.redis_url is None
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("var/govstore.sqlite3")
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.is_sqlite and settings.base_url_is_loopback


def test_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("GOVSTORE_DATA_DIR", str(tmp_path))
    clean_env.setenv("DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1:5432/g")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    clean_env.setenv("GOVSTORE_BASE_URL", "https://govstore.example/")
    clean_env.setenv("GOVSTORE_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.effective_database_url == "postgresql+asyncpg://u@127.0.0.1:5432/g"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.base_url == "https://govstore.example"
    assert not settings.base_url_is_loopback
    assert settings.max_body_bytes == 4096


def test_empty_values_mean_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "")
    clean_env.setenv("REDIS_URL", "")
    settings = Settings()
    assert settings.database_url is None and settings.redis_url is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOVSTORE_BASE_URL", "not a url"),
        ("GOVSTORE_BASE_URL", "ftp://x"),
        ("GOVSTORE_MAX_BODY_BYTES", "10"),
        ("GOVSTORE_RATE_LIMIT_PER_ADDRESS", "0"),
    ],
)
def test_bad_values_refused(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
