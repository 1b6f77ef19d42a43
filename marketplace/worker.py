"""The job registry of the whole platform, and `marketplace worker` (arq on Redis)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from marketplace.jobs import JobRegistry, foundation_jobs
from marketplace.settings import Settings

logger = logging.getLogger("govstore.worker")

QUEUE_NAME = "govstore:queue"


def job_registry() -> JobRegistry:
    """Every job function the platform has; the app and the worker use the same one."""
    registry = JobRegistry()
    for source in (foundation_jobs,):
        registry.functions.update(source.functions)
        registry.periodic.extend(source.periodic)
    return registry


def _cron_minutes(interval: timedelta) -> set[int]:
    minutes = max(1, int(interval.total_seconds() // 60))
    return set(range(0, 60, minutes)) if minutes < 60 else {0}


def worker_settings(
    settings: Settings, *, burst: bool = False, poll_delay: float = 0.5
) -> dict[str, Any]:
    """Keyword arguments for arq's Worker, built from the registry."""
    from arq import cron
    from arq.connections import RedisSettings

    from marketplace.platform import Platform

    if not settings.redis_url:
        raise SystemExit("the worker needs REDIS_URL; without it jobs run inside `serve`")
    registry = job_registry()

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["platform"] = Platform.create(settings, registry)

    async def shutdown(ctx: dict[str, Any]) -> None:
        platform = ctx.get("platform")
        if platform is not None:
            await platform.close()

    return {
        "functions": list(registry.functions.values()),
        "cron_jobs": [
            cron(p.function, minute=_cron_minutes(p.every), run_at_startup=True)  # type: ignore[arg-type]
            for p in registry.periodic
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_tries": registry.max_tries,
        "burst": burst,
        "poll_delay": poll_delay,
        "job_timeout": 300,
        "keep_result": 3600,
    }


def run_worker(settings: Settings) -> int:
    from arq.worker import Worker

    kwargs = worker_settings(settings)
    logger.info("worker starting with %d job functions", len(kwargs["functions"]))
    worker = Worker(**kwargs)
    asyncio.run(worker.async_run())
    return 0
