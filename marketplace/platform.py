"""The long-lived parts of a running platform, shared by every request and job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from marketplace.cache import TTLCache
from marketplace.db import Database
from marketplace.jobs import ArqQueue, InProcessQueue, JobQueue, JobRegistry
from marketplace.passwords import Passwords
from marketplace.ratelimit import CounterStore, counter_store_for
from marketplace.releases.approval import ApprovalHook
from marketplace.sealing import Sealer
from marketplace.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    passwords: Passwords
    counters: CounterStore
    registry: JobRegistry = field(default_factory=JobRegistry)
    jobs: JobQueue = field(init=False)
    sealer: Sealer = field(init=False)
    # Automated check ids guidelines may name; the assembly fills it from the review package.
    check_ids: frozenset[str] = frozenset()
    # Per-process caches that capabilities keep (e.g. the confusable-name index).
    caches: dict[str, Any] = field(default_factory=dict)
    # The approval hand-over (publish, grants, OAuth client); the assembly installs it.
    on_approval: ApprovalHook | None = None
    # Capabilities' long-lived helpers (the key ring, the access-log writer), by name.
    services: dict[str, Any] = field(default_factory=dict)
    # Called on close, newest first (capabilities' background writers).
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Verified bearer tokens (by hash) and cacheable GET responses; see marketplace/cache.py.
    principals: TTLCache[str, Any] = field(init=False)
    responses: TTLCache[tuple[str, str, str], tuple[int, bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.sealer = Sealer(self.settings)
        self.principals = TTLCache(self.settings.token_cache_seconds, max_entries=50_000)
        self.responses = TTLCache(self.settings.response_cache_seconds, max_entries=5_000)
        if self.settings.redis_url:
            self.jobs = ArqQueue(self.settings.redis_url)
        else:
            self.jobs = InProcessQueue(self.registry, self)

    @classmethod
    def create(cls, settings: Settings, registry: JobRegistry | None = None) -> Platform:
        return cls(
            settings=settings,
            db=Database(settings),
            passwords=Passwords(settings),
            counters=counter_store_for(settings),
            registry=registry or JobRegistry(),
        )

    async def close(self) -> None:
        for closer in reversed(self.on_close):
            await closer()
        await self.jobs.close()
        await self.counters.close()
        await self.db.dispose()
