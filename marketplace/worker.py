"""The job registry of the whole platform, and `marketplace worker` (arq on Redis)."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from marketplace.jobs import JobFunction, JobRegistry, RetryLater, backoff, foundation_jobs
from marketplace.settings import Settings
from marketplace.webhooks.tasks import webhook_jobs

if TYPE_CHECKING:
    from marketplace.platform import Platform

logger = logging.getLogger("govstore.worker")

QUEUE_NAME = "govstore:queue"


def job_registry() -> JobRegistry:
    """Every job function the platform has; the app and the worker use the same one."""
    registry = JobRegistry()
    from kitemarks.tasks import kitemark_jobs
    from review.tasks import review_jobs

    for source in (foundation_jobs, webhook_jobs, review_jobs, kitemark_jobs):
        registry.functions.update(source.functions)
        registry.periodic.extend(source.periodic)
    return registry


def cache_hook(platform: Platform) -> Any:
    """This process's own changes clear the hot-path caches at once."""

    async def hook(events: list[Any]) -> None:
        tags = {event.tag for event in events}
        if any(tag.startswith("account:") for tag in tags):
            platform.principals.clear()
        if any(tag.startswith(("release:", "review:")) for tag in tags):
            platform.responses.clear()

    return hook


def build_platform(settings: Settings) -> Platform:
    """A platform with every job and every audit-event hook: the app and the worker both use it."""
    from catalogue.assembly import install_catalogue
    from kitemarks.assembly import install_kitemarks
    from marketplace.platform import Platform
    from marketplace.webhooks.tasks import dispatch_hook
    from review.checks import REGISTRY
    from review.tasks import submission_hook
    from transparency.assembly import install_transparency

    platform = Platform.create(settings, job_registry())
    platform.check_ids = frozenset(REGISTRY)
    install_kitemarks(platform)
    install_catalogue(platform)
    install_transparency(platform)
    platform.db.event_hooks.append(cache_hook(platform))
    platform.db.event_hooks.append(submission_hook(platform))
    platform.db.event_hooks.append(dispatch_hook(platform))
    return platform


def _arq_job(function: JobFunction, max_tries: int) -> Any:
    """Give a portable job arq's retry semantics: RetryLater and failures become arq Retry."""
    from arq import func
    from arq.worker import Retry

    @functools.wraps(function)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await function(ctx, *args, **kwargs)
        except RetryLater as exc:
            raise Retry(defer=exc.defer) from exc
        except Exception as exc:
            if ctx.get("job_try", 1) >= max_tries:
                raise
            logger.exception("job %s failed on try %s", function.__name__, ctx.get("job_try"))
            raise Retry(defer=backoff(ctx.get("job_try", 1))) from exc

    return func(run, name=function.__name__)


def _cron_minutes(interval: timedelta) -> set[int]:
    minutes = max(1, int(interval.total_seconds() // 60))
    return set(range(0, 60, minutes)) if minutes < 60 else {0}


def worker_settings(
    settings: Settings, *, burst: bool = False, poll_delay: float = 0.5
) -> dict[str, Any]:
    """Keyword arguments for arq's Worker, built from the registry."""
    from arq import cron
    from arq.connections import RedisSettings

    if not settings.redis_url:
        raise SystemExit("the worker needs REDIS_URL; without it jobs run inside `serve`")
    registry = job_registry()

    async def startup(ctx: dict[str, Any]) -> None:
        from kitemarks.assembly import start_kitemarks

        ctx["platform"] = build_platform(settings)
        await start_kitemarks(ctx["platform"])

    async def shutdown(ctx: dict[str, Any]) -> None:
        platform = ctx.get("platform")
        if platform is not None:
            await platform.close()

    return {
        "functions": [_arq_job(f, registry.max_tries) for f in registry.functions.values()],
        "cron_jobs": [
            cron(
                _arq_job(p.function, registry.max_tries).coroutine,
                name=f"cron:{p.function.__name__}",
                minute=_cron_minutes(p.every),
                run_at_startup=True,
            )
            for p in registry.periodic
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_tries": registry.max_tries,
        # Jobs one worker process runs at once (bench/review_worker.py measures the same).
        "max_jobs": 10,
        "burst": burst,
        "poll_delay": poll_delay,
        "job_timeout": settings.job_timeout_seconds,
        "keep_result": 3600,
    }


def run_worker(settings: Settings) -> int:
    from arq.worker import Worker

    kwargs = worker_settings(settings)
    logger.info("worker starting with %d job functions", len(kwargs["functions"]))

    async def main() -> None:
        # arq binds the worker to the running loop, so build it inside it.
        worker = Worker(**kwargs)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        # arq has already finished its shutdown; a signal is how a worker is meant to stop.
        logger.info("worker stopped")
    return 0
