"""Durable access events with group commit (marketplace/groupcommit.py).

An introspection answer leaves only after its access events are committed; concurrent
introspections share one transaction. The same transaction reads the revocation epoch
(kitemarks/oauth/epoch.py): a request whose answer was built at an older epoch is told so
instead of being recorded, and looks the token up again, so nothing revoked before the batch
committed is ever answered active or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from kitemarks.models import AccessEvent, Consent
from kitemarks.oauth import epoch
from marketplace.groupcommit import GroupCommit

_EVENTS: sa.Table = AccessEvent.__table__  # type: ignore[attr-defined]
_CONSENTS: sa.Table = Consent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Accesses:
    """The access events of one answer (maybe none), and the epoch the answer was built at."""

    rows: list[dict[str, Any]]
    epoch: int


class AccessLogWriter(GroupCommit[Accesses, bool]):
    async def record(self, rows: list[dict[str, Any]], at_epoch: int) -> bool:
        """Commit `rows` if their answer is still current; False if it is stale. Raises if the
        commit failed. `rows` may be empty: the answer is still checked."""
        return await self.submit(Accesses(rows, at_epoch))

    async def commit(self, conn: AsyncConnection, items: list[Accesses]) -> list[bool]:
        current = int((await conn.execute(epoch.READ)).scalar_one())
        rows = [row for item in items if item.epoch == current for row in item.rows]
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
        return [item.epoch == current for item in items]
