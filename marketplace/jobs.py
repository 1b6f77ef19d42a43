"""Background jobs behind one small interface: arq on Redis when REDIS_URL is set, in-process otherwise.

Job functions are plain `async def job(ctx, **kwargs)` (arq's shape); `ctx["platform"]` is the
running Platform. Jobs are enqueued only after the transaction that asked for them commits,
carry a job id so the same logical task is not queued twice, and must be safe to run again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.db import after_commit, utcnow

if TYPE_CHECKING:
    from marketplace.platform import Platform

logger = logging.getLogger("govstore.jobs")

JobFunction = Callable[..., Awaitable[Any]]


class RetryLater(Exception):
    """Raised by a job to be run again after `defer` seconds (arq's Retry, portable)."""

    def __init__(self, defer: float) -> None:
        super().__init__(f"retry in {defer}s")
        self.defer = defer


@dataclass(frozen=True)
class Periodic:
    """A job run every `every` seconds (in-process) or at those minutes (arq cron)."""

    function: JobFunction
    every: timedelta


@dataclass
class JobRegistry:
    functions: dict[str, JobFunction] = field(default_factory=dict)
    periodic: list[Periodic] = field(default_factory=list)
    max_tries: int = 5

    def register(self, function: JobFunction) -> JobFunction:
        self.functions[function.__name__] = function
        return function

    def every(self, interval: timedelta) -> Callable[[JobFunction], JobFunction]:
        def decorator(function: JobFunction) -> JobFunction:
            self.register(function)
            self.periodic.append(Periodic(function, interval))
            return function

        return decorator


class JobQueue(Protocol):
    """`enqueue` runs a job once per `job_id`. With `coalesce`, requests for a job that is
    already running are served by one more run after it, never lost (for "catch up" jobs)."""

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str,
        defer_seconds: float = 0,
        coalesce: bool = False,
        **kwargs: Any,
    ) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...


def backoff(attempt: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential back-off with jitter: attempt n waits between half and all of base·2ⁿ⁻¹."""
    delay: float = min(cap, base * 2.0 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311


class InProcessQueue:
    """Runs jobs as asyncio tasks in the server process (the embedded default)."""

    def __init__(self, registry: JobRegistry, platform: Platform) -> None:
        self.registry = registry
        self.platform = platform
        self._active: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._periodic_tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._rerun: dict[str, tuple[str, dict[str, Any]]] = {}
        self.backoff_base = 1.0
        self.shutdown_grace_seconds = 5.0

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str,
        defer_seconds: float = 0,
        coalesce: bool = False,
        **kwargs: Any,
    ) -> None:
        if name not in self.registry.functions:
            raise KeyError(f"no job named {name!r}")
        if self._closing:
            return
        if job_id in self._active:
            if coalesce:
                self._rerun[job_id] = (name, kwargs)
            return
        self._active.add(job_id)
        task = asyncio.create_task(self._run(name, job_id, kwargs, defer_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, name: str, job_id: str, kwargs: dict[str, Any], defer_seconds: float = 0
    ) -> None:
        function = self.registry.functions[name]
        try:
            if defer_seconds > 0:
                await asyncio.sleep(defer_seconds)
            for attempt in range(1, self.registry.max_tries + 1):
                ctx = {"platform": self.platform, "job_id": job_id, "job_try": attempt}
                try:
                    await function(ctx, **kwargs)
                    return
                except RetryLater as exc:
                    delay = exc.defer
                except Exception:
                    logger.exception("job %s (%s) failed on try %d", name, job_id, attempt)
                    delay = backoff(attempt, self.backoff_base)
                if self._closing:
                    # In-process jobs do not outlive the server; the job's own state lets a
                    # later run (or the recovery sweep) pick the work up again.
                    logger.warning("job %s (%s) abandoned at shutdown", name, job_id)
                    return
                await asyncio.sleep(delay)
            logger.error("job %s (%s) gave up after %d tries", name, job_id, attempt)
        finally:
            self._active.discard(job_id)
            again = self._rerun.pop(job_id, None)
            if again is not None and not self._closing:
                await self.enqueue(again[0], job_id=job_id, **again[1])

    async def _every(self, periodic: Periodic) -> None:
        while True:
            await self.enqueue(
                periodic.function.__name__, job_id=f"periodic:{periodic.function.__name__}"
            )
            await asyncio.sleep(periodic.every.total_seconds())

    async def start(self) -> None:
        self._periodic_tasks = [asyncio.create_task(self._every(p)) for p in self.registry.periodic]

    async def drain(self) -> None:
        """Wait until every queued job (and any it queues) has finished; for tests and shutdown."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        self._closing = True
        for task in self._periodic_tasks:
            task.cancel()
        await asyncio.gather(*self._periodic_tasks, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=self.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def ping(self) -> None:
        return None


class ArqQueue:
    """Puts jobs on Redis for `marketplace worker` processes."""

    def __init__(self, redis_url: str, queue_name: str = "govstore:queue") -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._pool: Any = None

    async def _redis(self) -> Any:
        if self._pool is None:
            from arq import create_pool
            from arq.connections import RedisSettings

            self._pool = await create_pool(
                RedisSettings.from_dsn(self.redis_url), default_queue_name=self.queue_name
            )
        return self._pool

    async def enqueue(
        self,
        name: str,
        *,
        job_id: str,
        defer_seconds: float = 0,
        coalesce: bool = False,
        **kwargs: Any,
    ) -> None:
        pool = await self._redis()
        if coalesce:
            # arq drops a duplicate id while the first runs (and keeps its result for an hour):
            # a unique id per request means none is lost; the job itself is idempotent.
            job_id = f"{job_id}:{uuid.uuid4().hex}"
        # arq ignores a job id that is queued, running or has a kept result: one run per task.
        await pool.enqueue_job(
            name,
            _job_id=job_id,
            _queue_name=self.queue_name,
            _defer_by=defer_seconds or None,
            **kwargs,
        )

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose(close_connection_pool=True)
            self._pool = None

    async def ping(self) -> None:
        pool = await self._redis()
        await pool.ping()


def enqueue_after_commit(
    session: AsyncSession,
    queue: JobQueue,
    name: str,
    *,
    job_id: str,
    defer_seconds: float = 0,
    **kwargs: Any,
) -> None:
    """Queue a job once (and only if) the session's transaction commits."""

    async def send() -> None:
        await queue.enqueue(name, job_id=job_id, defer_seconds=defer_seconds, **kwargs)

    after_commit(session, send)


# The foundation's own job: housekeeping of expired rows.
foundation_jobs = JobRegistry()


@foundation_jobs.every(timedelta(hours=1))
async def purge_expired(ctx: dict[str, Any]) -> int:
    """Delete idempotency records past their expiry and tokens dead for more than a week."""
    from marketplace.accounts.models import AccessToken
    from marketplace.idempotency import IdempotencyRecord

    platform: Platform = ctx["platform"]
    cutoff = utcnow() - timedelta(days=7)
    async with platform.db.transaction() as session:
        removed = (
            await session.exec(
                delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= utcnow())
            )
        ).rowcount or 0
        removed += (
            await session.exec(delete(AccessToken).where(col(AccessToken.expires_at) <= cutoff))
        ).rowcount or 0
        removed += (
            await session.exec(delete(AccessToken).where(col(AccessToken.revoked_at) <= cutoff))
        ).rowcount or 0
    logger.info("housekeeping removed %d expired rows", removed)
    return int(removed)
