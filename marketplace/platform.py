"""The long-lived parts of a running platform, shared by every request and job."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.db import Database
from marketplace.jobs import ArqQueue, InProcessQueue, JobQueue, JobRegistry
from marketplace.passwords import Passwords
from marketplace.ratelimit import CounterStore, counter_store_for
from marketplace.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    passwords: Passwords
    counters: CounterStore
    registry: JobRegistry = field(default_factory=JobRegistry)
    jobs: JobQueue = field(init=False)

    def __post_init__(self) -> None:
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
        await self.jobs.close()
        await self.counters.close()
        await self.db.dispose()
