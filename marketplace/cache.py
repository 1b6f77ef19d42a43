"""Small per-process caches with a time to live, for hot read paths (bearer tokens, the review queue).

Entries live at most `ttl` seconds, so another process's change is seen within that window; this
process's own changes clear the affected entries at once (see the audit-event hooks in worker.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A bounded LRU map whose entries expire `ttl` seconds after they were stored."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return value

    def set(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class _Abandoned(Exception):
    """The caller doing the work was cancelled; whoever waited on it does the work itself."""


class SingleFlight(Generic[K, V]):
    """One load per key at a time: when a busy cache entry expires, the concurrent callers wait
    for the first one's read instead of each reading the same row (64 requests at once each
    reading the same data API's credentials through the ORM made the 99th percentile of
    introspection 3x its usual figure, every time the 5-second entry expired).

    A cancelled caller (its client went away) does not fail those waiting on it: they load for
    themselves. A load that fails fails every caller waiting on it.
    """

    def __init__(self) -> None:
        self._loading: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        pending = self._loading.get(key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except _Abandoned:
                return await load()
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(_Abandoned() if isinstance(exc, asyncio.CancelledError) else exc)
            future.exception()  # retrieved: nobody may be waiting for it
            raise
        finally:
            del self._loading[key]
        future.set_result(value)
        return value
