"""Durable access events with group commit (marketplace/groupcommit.py).

An introspection answer leaves only after its access events are committed; concurrent
introspections share one transaction. The same transaction reads the revocation epoch
(kitemarks/oauth/epoch.py): a request whose answer was built at an older epoch is told so
instead of being recorded, and looks the token up again, so nothing revoked before the batch
committed is ever answered active or logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kitemarks.oauth import epoch
from marketplace.db import Database
from marketplace.groupcommit import GroupCommit
from marketplace.rawdb import RawTransaction

# Writes that must commit with a batch's access events (the transparency log's pending rows).
Companion = Callable[[RawTransaction, list[dict[str, Any]]], Awaitable[None]]

INSERT_EVENT = (
    "INSERT INTO access_events (account_id, consent_id, service_id, token_id, scope, tier,"
    " purpose, data_api_id, case_reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
LAST_ACCESS = "UPDATE consents SET last_access_at = ? WHERE id = ?"
COLUMNS = (
    "account_id",
    "consent_id",
    "service_id",
    "token_id",
    "scope",
    "tier",
    "purpose",
    "data_api_id",
    "case_reference",
)


@dataclass(frozen=True, slots=True)
class Accesses:
    """The access events of one answer (maybe none), and the epoch the answer was built at."""

    rows: list[dict[str, Any]]
    epoch: int


class AccessLogWriter(GroupCommit[Accesses, bool]):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.companions: list[Companion] = []

    async def record(self, rows: list[dict[str, Any]], at_epoch: int) -> bool:
        """Commit `rows` if their answer is still current; False if it is stale. Raises if the
        commit failed. `rows` may be empty: the answer is still checked."""
        return await self.submit(Accesses(rows, at_epoch))

    async def commit(self, tx: RawTransaction, items: list[Accesses]) -> list[bool]:
        current = int(await tx.fetchval(epoch.READ_SQL))
        rows = [row for item in items if item.epoch == current for row in item.rows]
        if rows:
            await tx.executemany(
                INSERT_EVENT,
                [(*(row[c] for c in COLUMNS), tx.timestamp(row["created_at"])) for row in rows],
            )
            last_access: dict[str, datetime] = {}
            for row in rows:
                seen = last_access.get(row["consent_id"])
                if seen is None or row["created_at"] > seen:
                    last_access[row["consent_id"]] = row["created_at"]
            await tx.executemany(
                LAST_ACCESS, [(tx.timestamp(at), consent) for consent, at in last_access.items()]
            )
            for companion in self.companions:
                await companion(tx, rows)
        return [item.epoch == current for item in items]
