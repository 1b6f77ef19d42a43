"""Hot-path reads through the database driver itself: no ORM, no greenlet, no thread hop.

Measured on these machines, a point read through the async ORM costs more than the rest of a
request; through the driver it costs a few tens of microseconds. On SQLite the read runs in the
event loop's own thread on a read-only connection (an indexed lookup in WAL mode does not wait
on writers); on PostgreSQL it goes through a small pool of asyncpg connections of its own
(`Connections`). Callers write portable
SQL with `?` placeholders and get plain tuples back: JSON columns as text, timestamps as the
engine gives them (compare them in SQL).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

_PLACEHOLDER = re.compile(r"\?")


# A cursor must be closed in the thread that used it. Returned through `to_thread`, its last
# reference can drop in another executor thread while the next statement runs, and sqlite3's
# shared statement cache then fails with "bad parameter or other API misuse" (seen under
# sustained batched writes).
def _execute(conn: sqlite3.Connection, sql: str) -> None:
    conn.execute(sql).close()


def _execute_many(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(sql, rows).close()


class RawTransaction:
    """Statements in one write transaction, through the driver (see `RawReader.transaction`).

    Parameters are plain values; `timestamp` and `json` put datetimes and JSON in the form the
    engine stores them (SQLite: naive UTC text in SQLAlchemy's format, and JSON text).
    """

    def __init__(self, reader: RawReader, conn: Any) -> None:
        self._reader = reader
        self._conn = conn

    def timestamp(self, moment: datetime | None) -> Any:
        return self._reader.timestamp(moment)

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._reader.is_sqlite:
            conn = self._conn
            rows = await asyncio.to_thread(lambda: conn.execute(sql, tuple(params)).fetchall())
            return [tuple(r) for r in rows]
        return [tuple(r) for r in await self._conn.fetch(self._reader._numbered(sql), *params)]

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.fetchall(sql, params)
        return rows[0][0] if rows else None

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._reader.is_sqlite:
            await asyncio.to_thread(_execute_many, self._conn, sql, [tuple(r) for r in rows])
        else:
            await self._conn.executemany(self._reader._numbered(sql), [tuple(r) for r in rows])


class Connections:
    """asyncpg connections for `RawReader`, handed out first come, first served.

    asyncpg's own pool costs more than the read on a hot path (a task and a timeout on every
    release), and it is not fair: its queue lets a newcomer take a connection just handed to a
    waiting request, which then goes to the back of the line, so under load a few requests
    waited hundreds of milliseconds while the rest took ten. Here a FIFO semaphore lets no more
    requests through than there are connections, and a request that gets through takes a free
    connection (or opens one): there is no second queue. Releasing puts the connection back on
    the list: no reset statement (these connections never change session state: plain
    statements, transaction-scoped advisory locks; the catalogue's LISTEN has a connection of
    its own). A connection is closed rather than reused when its statement was cancelled or
    failed outside the database (a broken socket), or when it is still in a transaction.
    """

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._gate = asyncio.Semaphore(size)
        self._free: list[Any] = []
        self._in_use: set[Any] = set()
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        import asyncpg

        async with self._gate:
            if self._closed:
                raise RuntimeError("the connection pool is closed")
            conn = None
            while self._free and conn is None:
                candidate = self._free.pop()
                if candidate.is_closed():
                    candidate.terminate()
                else:
                    conn = candidate
            if conn is None:
                conn = await asyncpg.connect(self._dsn)
            self._in_use.add(conn)
            reusable = False
            try:
                yield conn
                reusable = True
            except asyncpg.PostgresError:
                reusable = True  # the database refused the statement; the connection is fine
                raise
            finally:
                self._in_use.discard(conn)
                if (
                    reusable
                    and not self._closed
                    and not conn.is_closed()
                    and not conn.is_in_transaction()
                ):
                    self._free.append(conn)
                else:
                    conn.terminate()

    async def close(self) -> None:
        self._closed = True
        free, self._free = self._free, []
        for conn in free:
            await conn.close()
        for conn in list(self._in_use):
            conn.terminate()


class RawReader:
    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.pool_size = pool_size
        self._sqlite: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._pool: Connections | None = None
        self._statements: dict[str, str] = {}

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            path = make_url(self.url).database or ""
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            # Hot lookups land anywhere in large tables: keep pages in memory (64 MiB of cache,
            # and reads through a memory map rather than a system call per page).
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA mmap_size=268435456")
            self._sqlite = conn
        return self._sqlite

    def _postgres(self) -> Connections:
        if self._pool is None:
            dsn = make_url(self.url).set(drivername="postgresql")
            self._pool = Connections(dsn.render_as_string(hide_password=False), self.pool_size)
        return self._pool

    def timestamp(self, moment: datetime | None) -> Any:
        """A datetime as a parameter compared with stored ones (SQLite: SQLAlchemy's text)."""
        if moment is None or not self.is_sqlite:
            return moment
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _numbered(self, sql: str) -> str:
        statement = self._statements.get(sql)
        if statement is None:
            counter = iter(range(1, 10_000))
            statement = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)
            self._statements[sql] = statement
        return statement

    async def fetchrow(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        if self.is_sqlite:
            row = self._sqlite_connection().execute(sql, tuple(params)).fetchone()
            return tuple(row) if row is not None else None
        async with self._postgres().connection() as conn:
            record = await conn.fetchrow(self._numbered(sql), *params)
        return tuple(record) if record is not None else None

    async def fetchall(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.is_sqlite:
            rows = self._sqlite_connection().execute(sql, tuple(params)).fetchall()
            return [tuple(r) for r in rows]
        async with self._postgres().connection() as conn:
            records = await conn.fetch(self._numbered(sql), *params)
        return [tuple(r) for r in records]

    def _sqlite_writer(self) -> sqlite3.Connection:
        if self._writer is None:
            path = make_url(self.url).database or ""
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            for pragma in (
                "journal_mode=WAL",
                "foreign_keys=ON",
                "busy_timeout=5000",
                "synchronous=NORMAL",
                "cache_size=-65536",
            ):
                conn.execute(f"PRAGMA {pragma}")
            self._writer = conn
        return self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RawTransaction]:
        """A write transaction through the driver; the caller holds the database's write lock.

        On SQLite each statement of the batch goes to a worker thread (the sqlite3 module lets go
        of the GIL while SQLite works), so the event loop serves requests meanwhile; a batch is
        a handful of hand-offs however many requests it carries.
        """
        if self.is_sqlite:
            conn = self._sqlite_writer()
            await asyncio.to_thread(_execute, conn, "BEGIN IMMEDIATE")
            try:
                yield RawTransaction(self, conn)
            except BaseException:
                await asyncio.to_thread(_execute, conn, "ROLLBACK")
                raise
            await asyncio.to_thread(_execute, conn, "COMMIT")
            return
        async with self._postgres().connection() as pg, pg.transaction():
            yield RawTransaction(self, pg)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp column as read by `RawReader`: SQLite text (naive UTC) or an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def parse_json(value: Any) -> Any:
    """A JSON column as read by `RawReader` (text from both drivers unless already decoded)."""
    if value is None or not isinstance(value, str | bytes):
        return value
    return json.loads(value)
