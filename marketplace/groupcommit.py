"""Group commit: concurrent requests hand their writes to one writer, which commits them together.

A request submits an item and waits; the writer takes everything gathered so far, runs it in one
transaction (`commit`, written by the subclass), then answers each request with its own result.
The request returns only after its write is durable, yet a burst of requests costs one commit,
not one each, and no request waits behind more than the batch in front of it. If the
transaction fails, every request in the batch gets the exception (nothing is half-written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from marketplace.db import Database
from marketplace.rawdb import RawTransaction

logger = logging.getLogger("govstore.groupcommit")

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(ABC, Generic[Item, Result]):
    max_batch = 2000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def commit(self, tx: RawTransaction, items: list[Item]) -> list[Result]:
        """Write `items` in the open transaction; one result per item, in order."""

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
                    async with self.db.raw_transaction() as tx:
                        results = await self.commit(tx, [item for item, _ in batch])
                except Exception as exc:  # every waiter hears of it; the writer carries on
                    logger.exception("%s: a batch of %d failed", type(self).__name__, len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
