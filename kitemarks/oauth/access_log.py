"""Durable access events with group commit: concurrent introspections share one transaction.

An introspection answer leaves only after its access events are committed. Requests hand their
rows to the writer and wait; the writer commits whatever has gathered in one transaction, then
wakes them. No request waits behind a global lock for longer than one batch's commit, and a
failed commit fails every request in the batch (they answer 503; nothing is half-recorded).

The same transaction reads the revocation epoch (kitemarks/oauth/epoch.py). A request whose
answer was built at an older epoch is told so instead of being recorded: it looks the token up
again, so nothing revoked before the batch committed is ever answered active or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kitemarks.models import AccessEvent, Consent
from kitemarks.oauth import epoch
from marketplace.db import Database

logger = logging.getLogger("govstore.access_log")

MAX_BATCH = 2000
_EVENTS: sa.Table = AccessEvent.__table__  # type: ignore[attr-defined]
_CONSENTS: sa.Table = Consent.__table__  # type: ignore[attr-defined]


@dataclass
class _Pending:
    rows: list[dict[str, Any]]
    epoch: int
    future: asyncio.Future[bool] = field(repr=False)


class AccessLogWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def record(self, rows: list[dict[str, Any]], at_epoch: int) -> bool:
        """Commit `rows` if the answer they belong to is still current; False if it is stale.

        Raises if the commit failed. `rows` may be empty: the answer is still checked.
        """
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        pending = _Pending(rows, at_epoch, loop.create_future())
        self._pending.append(pending)
        self._wakeup.set()
        return await pending.future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    current = await self._commit(batch)
                except Exception as exc:  # every waiter hears of it; the loop goes on
                    logger.exception("access events not recorded (%d requests)", len(batch))
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(exc)
                else:
                    for item in batch:
                        if not item.future.done():
                            item.future.set_result(item.epoch == current)

    async def _commit(self, batch: list[_Pending]) -> int:
        async with self.db.write_connection() as conn:
            current = int((await conn.execute(epoch.READ)).scalar_one())
            rows = [row for item in batch if item.epoch == current for row in item.rows]
            if rows:
                await conn.execute(sa.insert(_EVENTS), rows)
                last_access: dict[str, datetime] = {}
                for row in rows:
                    seen = last_access.get(row["consent_id"])
                    if seen is None or row["created_at"] > seen:
                        last_access[row["consent_id"]] = row["created_at"]
                await conn.execute(
                    sa.update(_CONSENTS)
                    .where(_CONSENTS.c.id == sa.bindparam("consent"))
                    .values(last_access_at=sa.bindparam("at")),
                    [{"consent": k, "at": v} for k, v in last_access.items()],
                )
        return current

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
