"""A worker killed in the middle of an automated review: after restart it completes once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from starlette.applications import Starlette
from testkit import Actor, manifest_fixture

from marketplace.events import AuditEvent
from marketplace.releases.models import Release
from marketplace.settings import Settings
from review.models import Finding

pytestmark = pytest.mark.skipif(
    not (
        os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgresql")
    ),
    reason="a real worker process on Redis and PostgreSQL: the second CI pass",
)

BIN = Path(sys.executable).parent


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "GOVSTORE_DATA_DIR": str(settings.data_dir),
        # arq re-runs a dead worker's job once its in-progress marker (timeout + 10 s) lapses.
        "GOVSTORE_JOB_TIMEOUT_SECONDS": "2",
        "GOVSTORE_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(BIN / "marketplace"), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _status(app: Starlette, release_id: str) -> str:
    async with app.state.platform.db.session(write=False) as session:
        release = await session.get(Release, release_id)
        assert release is not None
        await session.refresh(release)
        return release.status.value


async def _wait_for(app: Starlette, release_id: str, wanted: set[str], seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = await _status(app, release_id)
        if status in wanted:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"release stayed {await _status(app, release_id)}")


async def test_killed_worker_review_completes_once(
    app: Starlette,
    client: httpx.AsyncClient,
    settings: Settings,
    provider: Actor,
    organisation: dict[str, Any],
    published: dict[str, Any],
    tmp_path: Path,
) -> None:
    # Hold an exclusive lock on the findings table: the worker's first transaction (into
    # automated_review) commits, its second (writing findings) blocks — mid-review.
    engine = create_async_engine(settings.database_url or "")
    blocker = await engine.connect()
    transaction = await blocker.begin()
    await blocker.execute(sa.text("LOCK TABLE findings IN EXCLUSIVE MODE"))
    log = tmp_path / "worker.log"
    worker = _worker(settings, log)
    try:
        service = await client.post(
            f"/v1/organisations/{organisation['id']}/services",
            json={"slug": "warm-homes", "name": "Warm Homes"},
            headers=provider.headers,
        )
        r = await client.post(
            f"/v1/services/{service.json()['id']}/releases",
            json={"manifest": manifest_fixture("warm-home-grant-checker")},
            headers=provider.headers,
        )
        release_id = r.json()["id"]
        await _wait_for(app, release_id, {"automated_review"}, 30)
        await asyncio.sleep(0.5)  # the worker is now waiting on the lock, mid-job
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert await _status(app, release_id) == "automated_review"
    finally:
        await transaction.rollback()
        await blocker.close()
        await engine.dispose()
        if worker.poll() is None:
            worker.kill()
    restarted = _worker(settings, log)
    try:
        status = await _wait_for(app, release_id, {"awaiting_review", "changes_requested"}, 60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=20)
    assert status == "awaiting_review", log.read_text()[-3000:]
    async with app.state.platform.db.session(write=False) as session:
        findings = (
            await session.exec(select(Finding).where(Finding.release_id == release_id))
        ).all()
        events = (
            await session.exec(
                select(AuditEvent)
                .where(AuditEvent.subject_id == release_id)
                .where(AuditEvent.tag == "release:status:changed")
            )
        ).all()
    codes = [f.code for f in findings]
    assert len(codes) == len(set(codes)) == 4  # one finding per checked guideline, no duplicates
    assert [e.body["to"] for e in events] == ["submitted", "automated_review", "awaiting_review"]
