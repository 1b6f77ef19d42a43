"""The catalogue version every search answer and ETag is keyed by, known without a read each time.

Every change to the listings bumps one counter in its own transaction (`catalogue.index`). A
search needs the current value before it can answer from the cache or with a 304. On SQLite
reading it is a call into SQLite in the event loop's thread, cheaper than anything around it.
On PostgreSQL it would be a round trip per request, as much as the rest of a cached answer, so
each process LISTENs on the `catalogue_version` channel: the bumping transaction also NOTIFYs
(PostgreSQL delivers it when that transaction commits), the process forgets the value it knew,
and the next request reads it afresh. A change is therefore seen as soon as its commit is
announced, in every process. While the listening connection is down (before it connects, or
after PostgreSQL drops it) nothing is remembered and every request reads the counter; the
watch reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

import sqlalchemy as sa

from marketplace.batching import stop_task
from marketplace.rawdb import RawReader, asyncpg_dsn

logger = logging.getLogger("govstore.catalogue")

CHANNEL = "catalogue_version"
NOTIFY = sa.text(f"NOTIFY {CHANNEL}")
VERSION_SQL = "SELECT COALESCE((SELECT value FROM catalogue_version WHERE id = 1), 0)"
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


# This process's watches: a bump committed here is known here at once, before its NOTIFY comes
# back (so a client that changes the catalogue and searches next never sees the old answer).
_WATCHES: weakref.WeakSet[VersionWatch] = weakref.WeakSet()


async def announce_locally() -> None:
    """After-commit callback of a transaction that bumped the version (see `catalogue.index`)."""
    for watch in list(_WATCHES):
        watch.changed()


class VersionWatch:
    """The catalogue version as this process last read it, forgotten on every announced bump."""

    def __init__(self, database_url: str | None) -> None:
        self._url = database_url if database_url and database_url.startswith("postgres") else None
        self._known: int | None = None
        # Bumped on every notification: a read that started before one is not remembered.
        self._generation = 0
        self._listening = False
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        _WATCHES.add(self)

    @property
    def listening(self) -> bool:
        return self._listening

    async def current(self, reader: RawReader) -> int:
        known = self._known
        if known is not None:
            return known
        generation = self._generation
        row = await reader.fetchrow(VERSION_SQL, ())
        value = int(row[0]) if row is not None else 0
        if self._listening and generation == self._generation:
            self._known = value
        return value

    def changed(self, *_: Any) -> None:
        """A bump was announced (or the announcements may have been missed): read afresh."""
        self._generation += 1
        self._known = None

    def start(self) -> None:
        if self._url is not None and self._task is None:
            self._task = asyncio.create_task(self._keep_listening(), name="catalogue-version")

    async def close(self) -> None:
        await stop_task(self._task)
        self._task = None

    def _dropped(self, *_: Any) -> None:
        self._listening = False
        self.changed()
        self._lost.set()

    async def _keep_listening(self) -> None:
        import asyncpg

        assert self._url is not None
        dsn = asyncpg_dsn(self._url)
        failures = 0
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                self._lost.clear()
                conn.add_termination_listener(self._dropped)
                await conn.add_listener(CHANNEL, self.changed)
                # Whatever was read before this moment may predate a missed announcement.
                self.changed()
                self._listening = True
                failures = 0
                await self._lost.wait()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("catalogue version: not listening (%s); reading per request", exc)
            finally:
                self._listening = False
                self.changed()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
            failures += 1
