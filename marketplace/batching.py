"""Requests handing work to one background task that does it in batches (`Batches`), and
stopping a background task (`stop_task`).

A request submits an item and waits; the task takes everything gathered so far, does it in one
go (`run_batch`, written by the subclass), then answers each request with its own result. A
burst of requests costs one batch, not one each, and no request waits behind more than the batch
in front of it. If the batch fails, every request in it gets the exception, and the task carries
on with the next. Group commit (`groupcommit.py`) and keyed reads (`rawdb.KeyedReads`) build on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

logger = logging.getLogger("govstore.batching")

Item = TypeVar("Item")
Result = TypeVar("Result")


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background task and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Batches(ABC, Generic[Item, Result]):
    max_batch = 2000

    def __init__(self) -> None:
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_batch(self, items: list[Item]) -> list[Result]:
        """Do `items` together; one result per item, in order."""

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        self._wakeup.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                self._pending = self._pending[self.max_batch :]
                try:
                    results = await self.run_batch([item for item, _ in batch])
                except Exception as exc:  # every waiter hears of it; the task carries on
                    logger.exception("%s: a batch of %d failed", type(self).__name__, len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None
