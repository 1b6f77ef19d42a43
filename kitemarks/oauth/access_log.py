"""Durable access events with group commit: concurrent introspections share one transaction.

An introspection answer leaves only after its access events are committed. Requests hand their
rows to the writer and wait; the writer commits whatever has gathered in one transaction, then
wakes them. No request waits behind a global lock for longer than one batch's commit, and a
failed commit fails every request in the batch (they answer 503; nothing is half-recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kitemarks.models import AccessEvent, Consent
from marketplace.db import Database

logger = logging.getLogger("govstore.access_log")

MAX_BATCH = 2000


class AccessLogWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[list[dict[str, Any]], asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def record(self, rows: list[dict[str, Any]]) -> None:
        """Return once `rows` are committed; raises if the commit failed."""
        if not rows:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, future))
        self._wakeup.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    await self._commit([row for rows, _ in batch for row in rows])
                except Exception as exc:  # every waiter hears of it; the loop goes on
                    logger.exception("access events not recorded (%d requests)", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)

    async def _commit(self, rows: list[dict[str, Any]]) -> None:
        last_access: dict[str, datetime] = defaultdict(lambda: rows[0]["created_at"])
        for row in rows:
            last_access[row["consent_id"]] = max(last_access[row["consent_id"]], row["created_at"])
        async with self.db.transaction() as session:
            await session.exec(sa.insert(AccessEvent), params=rows)
            consents: sa.Table = Consent.__table__  # type: ignore[attr-defined]
            await session.exec(
                sa.update(consents)
                .where(consents.c.id == sa.bindparam("consent"))
                .values(last_access_at=sa.bindparam("at")),
                params=[{"consent": k, "at": v} for k, v in last_access.items()],
            )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
