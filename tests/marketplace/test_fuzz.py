"""Schemathesis fuzzes the running server from its OpenAPI document: no 5xx, no off-schema answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from marketplace.settings import Settings

BIN = Path(sys.executable).parent
ADMIN = ("fuzz-admin@govstore.example", "fuzzing-admin-2026")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "GOVSTORE_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "GOVSTORE_BASE_URL": f"http://127.0.0.1:{port}",
        "GOVSTORE_RATE_LIMIT_PER_ADDRESS": "1000000",
        "GOVSTORE_RATE_LIMIT_PER_TOKEN": "1000000",
        "GOVSTORE_ARGON2_MEMORY_KIB": "512",
        "GOVSTORE_ARGON2_TIME_COST": "1",
        "GOVSTORE_LOG_LEVEL": "WARNING",
        "GOVSTORE_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "GOVSTORE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "marketplace"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "server.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        server_log = (tmp_path / "server.log").read_text()
        assert "Traceback" not in server_log, server_log


def _token(url: str, email: str, password: str, role: str | None = None) -> str:
    if role:
        httpx.post(
            f"{url}/v1/accounts",
            json={"email": email, "password": password, "display_name": "Fuzz", "role": role},
        ).raise_for_status()
    r = httpx.post(f"{url}/v1/auth/login", json={"email": email, "password": password})
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


@pytest.mark.slow
@pytest.mark.parametrize("who", ["admin", "provider"])
def test_schemathesis_finds_nothing(server: str, who: str, tmp_path: Path) -> None:
    if who == "admin":
        token = _token(server, *ADMIN)
    else:
        token = _token(server, "fuzz-provider@test.example", "fuzzing-provider-2026", "provider")
        httpx.post(
            f"{server}/v1/organisations",
            json={"name": "Fuzz Org", "contact_email": "f@fuzz.example"},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{server}/openapi.json",
            "--checks",
            "all",
            # Opaque values (cursors, password strength, references to other objects) cannot
            # be described by a schema, so "schema-valid input must be accepted" does not hold.
            "--exclude-checks",
            "positive_data_acceptance",
            # Signing out would revoke the very token the run authenticates with.
            "--exclude-path",
            "/v1/auth/logout",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "-H",
            f"Authorization: Bearer {token}",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
