"""The jobs interface: after-commit enqueueing, job ids, retries; arq on Redis in the Redis pass."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from marketplace.db import utcnow
from marketplace.idempotency import IdempotencyRecord
from marketplace.jobs import InProcessQueue, JobRegistry, RetryLater, enqueue_after_commit
from marketplace.platform import Platform
from marketplace.settings import Settings


@pytest.fixture
def platform(app: Starlette) -> Platform:
    p: Platform = app.state.platform
    return p


def registry_with(calls: list[tuple[str, Any]]) -> JobRegistry:
    registry = JobRegistry(max_tries=3)

    @registry.register
    async def record(ctx: dict[str, Any], value: str) -> None:
        calls.append((ctx["job_id"], value))

    @registry.register
    async def flaky(ctx: dict[str, Any]) -> None:
        calls.append((ctx["job_id"], ctx["job_try"]))
        if ctx["job_try"] < 3:
            raise RetryLater(0.01)

    @registry.register
    async def broken(ctx: dict[str, Any]) -> None:
        calls.append((ctx["job_id"], ctx["job_try"]))
        raise RuntimeError("always fails")

    return registry


async def test_enqueued_only_after_commit(platform: Platform) -> None:
    calls: list[tuple[str, Any]] = []
    queue = InProcessQueue(registry_with(calls), platform)
    with pytest.raises(RuntimeError):
        async with platform.db.transaction() as session:
            enqueue_after_commit(session, queue, "record", job_id="j1", value="rolled back")
            raise RuntimeError("abort")
    async with platform.db.transaction() as session:
        enqueue_after_commit(session, queue, "record", job_id="j2", value="committed")
    await queue.drain()
    assert calls == [("j2", "committed")]


async def test_duplicate_job_id_runs_once(platform: Platform) -> None:
    calls: list[tuple[str, Any]] = []
    queue = InProcessQueue(registry_with(calls), platform)
    await queue.enqueue("record", job_id="same", value="a")
    await queue.enqueue("record", job_id="same", value="b")
    await queue.drain()
    assert calls == [("same", "a")]


async def test_retries_then_succeeds_or_gives_up(platform: Platform) -> None:
    calls: list[tuple[str, Any]] = []
    queue = InProcessQueue(registry_with(calls), platform)
    queue.backoff_base = 0.001
    await queue.enqueue("flaky", job_id="f")
    await queue.enqueue("broken", job_id="b")
    await queue.drain()
    assert [c for c in calls if c[0] == "f"] == [("f", 1), ("f", 2), ("f", 3)]
    assert [c for c in calls if c[0] == "b"] == [("b", 1), ("b", 2), ("b", 3)]


async def test_unknown_job_is_refused(platform: Platform) -> None:
    queue = InProcessQueue(JobRegistry(), platform)
    with pytest.raises(KeyError):
        await queue.enqueue("nope", job_id="x")


async def _old_record(platform: Platform) -> None:
    async with platform.db.transaction() as session:
        session.add(
            IdempotencyRecord(
                caller="acct:x",
                key="old",
                method="POST",
                path="/v1/x",
                request_hash="0" * 64,
                status_code=201,
                response_body="{}",
                expires_at=utcnow() - timedelta(hours=1),
            )
        )


async def test_housekeeping_purges_expired_rows(platform: Platform) -> None:
    from marketplace.jobs import purge_expired

    await _old_record(platform)
    removed = await purge_expired({"platform": platform})
    assert removed == 1
    async with platform.db.session(write=False) as session:
        assert (await session.exec(select(IdempotencyRecord))).all() == []


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="arq runs in the Redis pass of CI")
async def test_arq_worker_runs_queued_job(platform: Platform, settings: Settings) -> None:
    from arq.worker import Worker

    from marketplace.jobs import ArqQueue
    from marketplace.worker import QUEUE_NAME, worker_settings

    await _old_record(platform)
    queue = ArqQueue(settings.redis_url or "", QUEUE_NAME)
    await queue.enqueue("purge_expired", job_id="purge-once")
    await queue.enqueue("purge_expired", job_id="purge-once")  # a duplicate is not queued
    kwargs = worker_settings(settings, burst=True, poll_delay=0)
    kwargs["cron_jobs"] = []
    worker = Worker(**kwargs, handle_signals=False)
    await worker.main()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    await worker.close()
    await queue.close()
    async with platform.db.session(write=False) as session:
        assert (await session.exec(select(IdempotencyRecord))).all() == []
