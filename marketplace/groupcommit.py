"""Group commit: concurrent requests hand their writes to one writer, which commits them together.

A request submits an item and waits; the writer takes everything gathered so far, runs it in one
transaction (`commit`, written by the subclass), then answers each request with its own result.
The request returns only after its write is durable, yet a burst of requests costs one commit,
not one each, and no request waits behind more than the batch in front of it. If the
transaction fails, every request in the batch gets the exception (nothing is half-written).
The batching itself is `batching.Batches`.
"""

from __future__ import annotations

from abc import abstractmethod

from marketplace.batching import Batches, Item, Result
from marketplace.db import Database
from marketplace.rawdb import RawTransaction


class GroupCommit(Batches[Item, Result]):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @abstractmethod
    async def commit(self, tx: RawTransaction, items: list[Item]) -> list[Result]:
        """Write `items` in the open transaction; one result per item, in order."""

    async def run_batch(self, items: list[Item]) -> list[Result]:
        async with self.db.raw_transaction() as tx:
            return await self.commit(tx, items)
