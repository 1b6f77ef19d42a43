"""Rate limits and login throttling: fixed-window counters in memory, or in Redis so processes share them."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from starlette.types import ASGIApp, Receive, Scope, Send

from marketplace.problems import problem_response
from marketplace.settings import Settings

logger = logging.getLogger("govstore.ratelimit")


class CounterStore(Protocol):
    """A fixed-window counter: `hit` counts one event and returns (count, seconds left in window)."""

    async def hit(self, key: str, window: int) -> tuple[int, int]: ...

    async def peek(self, key: str) -> tuple[int, int]: ...

    async def clear(self, key: str) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCounterStore:
    """One process's counters; expired windows are swept as new ones are written."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}
        self._next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        self._next_sweep = now + 30

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        self._sweep(now)
        expires, count = self._counts.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + window, 0
        count += 1
        self._counts[key] = (expires, count)
        return count, max(1, int(expires - now + 0.999))

    async def peek(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        expires, count = self._counts.get(key, (0.0, 0))
        if expires <= now:
            return 0, 0
        return count, max(1, int(expires - now + 0.999))

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisCounterStore:
    """Counters shared by every app process through Redis (INCR + EXPIRE NX)."""

    def __init__(self, url: str, prefix: str = "govstore:rl:") -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def peek(self, key: str) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        return (int(count), max(1, int(ttl))) if count is not None else (0, 0)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def counter_store_for(settings: Settings) -> CounterStore:
    if settings.redis_url:
        return RedisCounterStore(settings.redis_url)
    return MemoryCounterStore()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RateLimitMiddleware:
    """Answers 429 with Retry-After once a client address or a bearer token exceeds its window."""

    def __init__(self, app: ASGIApp, *, store: CounterStore, settings: Settings) -> None:
        self.app = app
        self.store = store
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        window = self.settings.rate_limit_window_seconds
        client = scope.get("client")
        address = client[0] if client else "unknown"
        checks = [(f"addr:{address}", self.settings.rate_limit_per_address)]
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].decode("latin-1").strip()
                checks.append((f"tok:{_digest(token)}", self.settings.rate_limit_per_token))
        for key, limit in checks:
            try:
                count, retry_after = await self.store.hit(key, window)
            except Exception as exc:
                # The limiter's store is down: keep serving rather than fail every request.
                logger.warning("rate limiter unavailable (%s); not limiting", type(exc).__name__)
                break
            if count > limit:
                response = problem_response(
                    429,
                    detail=f"rate limit of {limit} requests per {window} seconds exceeded",
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
