"""Hot-path reads through the database driver itself: no ORM, no greenlet, no thread hop.

Measured on these machines, a point read through the async ORM costs more than the rest of a
request; through the driver it costs a few tens of microseconds. On SQLite the read runs in the
event loop's own thread on a read-only connection (an indexed lookup in WAL mode does not wait
on writers); on PostgreSQL it goes through a small pool of asyncpg connections of its own
(`Connections`). Callers write portable SQL with `?` placeholders and get plain tuples back:
JSON columns as text, timestamps as the engine gives them (compare them in SQL).
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

from marketplace.batching import Batches

_PLACEHOLDER = re.compile(r"\?")
# Reads through a memory map rather than a system call per page.
SQLITE_MMAP_BYTES = 268_435_456


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy database URL (`postgresql+asyncpg://…`) as asyncpg's own DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_reader(url: str, cache_kib: int) -> sqlite3.Connection:
    """A read-only connection for hot lookups, usable from any thread: they land anywhere in
    large tables, so pages stay in memory (`cache_kib` of cache and the memory map)."""
    conn = sqlite3.connect(
        make_url(url).database or "", check_same_thread=False, isolation_level=None
    )
    for pragma in ("query_only=ON", "busy_timeout=5000", f"cache_size=-{cache_kib}"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    return conn


# A cursor must be closed in the thread that used it. Returned through `to_thread`, its last
# reference can drop in another executor thread while the next statement runs, and sqlite3's
# shared statement cache then fails with "bad parameter or other API misuse" (seen under
# sustained batched writes).
def _run_sqlite(
    conn: sqlite3.Connection,
    first: str | None,
    writes: list[tuple[str, list[tuple[Any, ...]]]],
    query: tuple[str, tuple[Any, ...]] | None,
    then: str | None,
) -> list[tuple[Any, ...]]:
    """In a worker thread: BEGIN if it is still to come, the queued writes, then a query or a
    final statement (COMMIT)."""
    if first is not None:
        conn.execute(first).close()
    for sql, rows in writes:
        conn.executemany(sql, rows).close()
    rows_read: list[tuple[Any, ...]] = []
    if query is not None:
        cursor = conn.execute(*query)
        rows_read = [tuple(r) for r in cursor.fetchall()]
        cursor.close()
    if then is not None:
        conn.execute(then).close()
    return rows_read


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK").close()


class RawTransaction:
    """Statements in one write transaction, through the driver (see `RawReader.transaction`).

    Parameters are plain values; `timestamp` and `json` put datetimes and JSON in the form the
    engine stores them (SQLite: naive UTC text in SQLAlchemy's format, and JSON text).

    On SQLite, BEGIN and the writes are queued and sent to the worker thread with the next read
    or with the COMMIT, so a batch costs a hand-off per read plus one, not one per statement (a
    hand-off waits for its turn in a busy event loop). A failing write therefore raises there,
    and the transaction rolls back as for any failure inside it.
    """

    def __init__(self, reader: RawReader, conn: Any, begin: str | None = None) -> None:
        self._reader = reader
        self._conn = conn
        self._begin = begin
        self._writes: list[tuple[str, list[tuple[Any, ...]]]] = []

    def timestamp(self, moment: datetime | None) -> Any:
        return self._reader.timestamp(moment)

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    async def _send(
        self, query: tuple[str, tuple[Any, ...]] | None, then: str | None = None
    ) -> list[tuple[Any, ...]]:
        begin, self._begin = self._begin, None
        writes, self._writes = self._writes, []
        return await asyncio.to_thread(_run_sqlite, self._conn, begin, writes, query, then)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._reader.is_sqlite:
            return await self._send((sql, tuple(params)))
        return [tuple(r) for r in await self._conn.fetch(self._reader._numbered(sql), *params)]

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.fetchall(sql, params)
        return rows[0][0] if rows else None

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._reader.is_sqlite:
            self._writes.append((sql, [tuple(r) for r in rows]))
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
            self._sqlite = sqlite_reader(self.url, cache_kib=65536)
        return self._sqlite

    def _postgres(self) -> Connections:
        if self._pool is None:
            self._pool = Connections(asyncpg_dsn(self.url), self.pool_size)
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

        On SQLite the statements run in a worker thread (the sqlite3 module lets go of the GIL
        while SQLite works), so the event loop serves requests meanwhile; a batch is a handful of
        hand-offs however many requests it carries (see `RawTransaction`). A COMMIT that fails
        (a busy database) is rolled back like the rest.
        """
        if self.is_sqlite:
            conn = self._sqlite_writer()
            tx = RawTransaction(self, conn, begin="BEGIN IMMEDIATE")
            try:
                yield tx
                await tx._send(None, "COMMIT")
            except BaseException:
                await asyncio.to_thread(_rollback, conn)
                raise
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


def _read_batch(conn: sqlite3.Connection, sql: str, keys: str) -> list[tuple[Any, ...]]:
    cursor = conn.execute(sql, (keys,))
    rows = [tuple(r) for r in cursor.fetchall()]
    cursor.close()
    return rows


class KeyedReads(Batches[str, tuple[Any, ...] | None]):
    """Point reads by a unique key, for a hot path: `get(key)` is the row `SELECT … WHERE key = ?`
    gives, or None.

    On SQLite a lone point read runs in the event loop's own thread (a hand-off to a thread per
    read costs more than the read), and under load those reads took an eighth of the loop's
    time, time in which it served nobody. Here the keys of concurrent requests go into one
    statement (`key IN (SELECT value FROM json_each(?))`), run in a worker thread on a read-only
    connection of its own while the loop carries on (sqlite3 lets go of the GIL inside SQLite):
    one hand-off per batch, and the reads use the machine's other core. On PostgreSQL each read
    goes through the pool (the loop never waits on it there).
    """

    max_batch = 500  # keys per statement

    def __init__(self, reader: RawReader, select: str, key: str) -> None:
        if not select.startswith("SELECT "):
            raise ValueError("a keyed read is a SELECT statement without its WHERE clause")
        super().__init__()
        self._reader = reader
        self._single = f"{select} WHERE {key} = ?"
        # The caller's fixed text; the keys are one parameter.
        columns = select[len("SELECT ") :]
        where = f"{key} IN (SELECT value FROM json_each(?))"  # noqa: S608
        self._batch = f"SELECT {key}, {columns} WHERE {where}"
        self._conn: sqlite3.Connection | None = None

    async def get(self, key: str) -> tuple[Any, ...] | None:
        if not self._reader.is_sqlite:
            return await self._reader.fetchrow(self._single, (key,))
        return await self.submit(key)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite_reader(self._reader.url, cache_kib=16384)
        return self._conn

    async def run_batch(self, items: list[str]) -> list[tuple[Any, ...] | None]:
        keys = list(dict.fromkeys(items))  # a key asked for twice at once is read once
        rows = await asyncio.to_thread(
            _read_batch, self._connection(), self._batch, json.dumps(keys)
        )
        found = {row[0]: row[1:] for row in rows}
        return [found.get(key) for key in items]

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
