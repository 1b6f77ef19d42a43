"""GovStore as real processes for end-to-end tests: `marketplace serve` on a free loopback port.

`running_server` starts it against a fresh data directory, with the run's DATABASE_URL
when one is set (that database is emptied before and after, as the in-process tests
leave it); with REDIS_URL, jobs go to a separate `marketplace worker` process. The
bootstrap admin is `ADMIN_EMAIL` / `ADMIN_PASSWORD`. Other processes (such as the example
department API) can be started beside it and are stopped with it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN_EMAIL = "admin@journey.example"
ADMIN_PASSWORD = "journey-admin-passphrase"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """The running processes, their logs, and the environment they were started with."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = self.data_dir / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as output:
            self.processes.append(
                subprocess.Popen(argv, env=env or self.env, stdout=output, stderr=subprocess.STDOUT)
            )

    def run(self, name: str, argv: list[str]) -> None:
        """Run a command to completion with the server's environment (such as `demo`)."""
        log = self.data_dir / f"{name}.log"
        with log.open("wb") as output:
            done = subprocess.run(
                argv, env=self.env, stdout=output, stderr=subprocess.STDOUT, timeout=120
            )
        if done.returncode != 0:
            pytest.fail(f"{name} exited with {done.returncode}\n{log.read_text()[-3000:]}")

    def tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    pytest.fail(f"a process exited with {process.returncode}\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if ready():
                    return
            time.sleep(0.2)
        pytest.fail(f"{what} not ready after {timeout}s\n{self.tail()}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def running_server(
    request: pytest.FixtureRequest | None,
    data_dir: Path,
    *,
    demo: bool = False,
    own_database: bool = False,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Serve GovStore until the block ends; with `demo`, the demo data is loaded first;
    `settings` are further `GOVSTORE_*` variables for its processes.

    The server uses the run's database and Redis when the environment names them, unless
    `own_database`: then a SQLite file in `data_dir` and in-process jobs (for tests that change
    the demo data as they go).
    """
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if own_database:
        database_url = redis_url = None
    shared: Any = None
    if database_url or redis_url:
        # The run's database and Redis, as the rest of the suite uses them: migrated by the
        # session's settings, emptied before and after, so neither side sees the other's rows.
        from tests.conftest import _empty_database, _flush_redis

        assert request is not None, "a server on the run's database needs the test's request"
        shared = request.getfixturevalue("base_settings")
        asyncio.run(_empty_database(shared))
        asyncio.run(_flush_redis(shared))
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GOVSTORE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "GOVSTORE_DATA_DIR": str(data_dir),
        "GOVSTORE_BASE_URL": f"http://127.0.0.1:{port}",
        "GOVSTORE_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "GOVSTORE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GOVSTORE_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "GOVSTORE_ARGON2_MEMORY_KIB": "1024",
        "GOVSTORE_ARGON2_TIME_COST": "1",
        **(settings or {}),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    server = Server(f"http://127.0.0.1:{port}", data_dir, env)
    try:
        if demo:
            server.run("migrate", [str(BIN / "marketplace"), "migrate"])
            server.run("demo", [str(BIN / "marketplace"), "demo"])
        server.start("serve", [str(BIN / "marketplace"), "serve", "--port", str(port)])
        if redis_url:
            server.start("worker", [str(BIN / "marketplace"), "worker"])
        url = f"{server.base_url}/readyz"
        server.wait_until(lambda: httpx.get(url, timeout=2).status_code == 200, url)
        yield server
    finally:
        server.stop()
        if shared is not None:
            from tests.conftest import _empty_database, _flush_redis

            asyncio.run(_empty_database(shared))
            asyncio.run(_flush_redis(shared))
