"""Hot paths through the database driver itself: no ORM, no greenlet.

Measured on these machines, a point read through the async ORM costs more than the rest of a
request; through the driver it costs a few tens of microseconds. On SQLite the read runs in the
event loop's own thread on a read-only connection (an indexed lookup in WAL mode does not wait
on writers), and so do the batched writes of a group commit (`RawReader.transaction`); on
PostgreSQL they go through a small pool of asyncpg connections of its own (`Connections`).
Callers write portable SQL with `?` placeholders and get plain tuples back: JSON columns as
text, timestamps as the engine gives them (compare them in SQL).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from marketplace.batching import Batches

logger = logging.getLogger("govstore.rawdb")

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


BUSY_TIMEOUT_MS = 5000


def _begin_waiting(conn: sqlite3.Connection) -> None:
    """In a worker thread: BEGIN IMMEDIATE, waiting up to `BUSY_TIMEOUT_MS` for another process
    to let go of the database's write lock."""
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").close()
    try:
        conn.execute("BEGIN IMMEDIATE").close()
    finally:
        conn.execute("PRAGMA busy_timeout=0").close()


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK").close()


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


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
            cursor = self._conn.execute(sql, tuple(params))
            rows = [tuple(r) for r in cursor.fetchall()]
            cursor.close()
            return rows
        return [tuple(r) for r in await self._conn.fetch(self._reader._numbered(sql), *params)]

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self.fetchall(sql, params)
        return rows[0][0] if rows else None

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._reader.is_sqlite:
            self._conn.executemany(sql, [tuple(r) for r in rows]).close()
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
        self._waiting: asyncio.Future[None] | None = None
        self._checkpoints: Checkpoints | None = None

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
                # Never wait for the lock in the event loop's thread (see `_begin`).
                "busy_timeout=0",
                "synchronous=NORMAL",
                "cache_size=-65536",
                # Checkpoints run in a worker thread (`Checkpoints`), not in this one's COMMIT.
                "wal_autocheckpoint=0",
            ):
                conn.execute(f"PRAGMA {pragma}").close()
            self._writer = conn
            self._checkpoints = Checkpoints(path)
        return self._writer

    async def _begin(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE: at once when no other process holds the write lock (this process's
        writers queue on the database's asyncio lock first), else in a worker thread that waits
        for it, so the event loop never blocks on another process."""
        if self._waiting is not None:
            # A caller was cancelled while its BEGIN waited; the thread may have begun since.
            await asyncio.wait({self._waiting})
            self._waiting = None
            _rollback(conn)
        try:
            conn.execute("BEGIN IMMEDIATE").close()
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        self._waiting = asyncio.ensure_future(asyncio.to_thread(_begin_waiting, conn))
        # Shielded: a cancelled caller leaves the thread to finish; the next `_begin` waits.
        await asyncio.shield(self._waiting)
        self._waiting = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RawTransaction]:
        """A write transaction through the driver; the caller holds the database's write lock.

        On SQLite the statements run in the event loop's own thread: a group commit's batch is a
        few hundred microseconds of SQLite work, far less than handing it to a worker thread
        and back (each hand-off waited about 4 ms for the busy loop and the GIL, and the batch
        held the write lock all the while). Nothing in it can block: BEGIN waits for another
        process in a thread (`_begin`), a write-ahead-log COMMIT does not wait for readers, and
        checkpoints (copying the log into the database, with an fsync) run in a worker thread
        after the commit (`Checkpoints`). A failing statement or COMMIT rolls the whole
        transaction back.
        """
        if self.is_sqlite:
            conn = self._sqlite_writer()
            await self._begin(conn)
            try:
                yield RawTransaction(self, conn)
                conn.execute("COMMIT").close()
            except BaseException:
                _rollback(conn)
                raise
            if self._checkpoints is not None:
                self._checkpoints.after_commit()
            return
        async with self._postgres().connection() as pg, pg.transaction():
            yield RawTransaction(self, pg)

    async def close(self) -> None:
        if self._waiting is not None:
            await asyncio.wait({self._waiting})
            self._waiting = None
        if self._checkpoints is not None:
            await self._checkpoints.close()
            self._checkpoints = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()


class Checkpoints:
    """Copies the write-ahead log back into the database file from a worker thread.

    SQLite does this itself at the end of a COMMIT once the log holds 1,000 pages, which would
    stall the event loop for the copy and its fsync. The driver's writer turns that off, and
    after a commit this starts a passive checkpoint (it never waits for readers or writers) in a
    worker thread, on a connection of its own, at most every `interval` seconds and one at a
    time. Other connections (the ORM's, other processes') keep SQLite's own checkpoints.
    """

    interval = 1.0

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None
        self._last = float("-inf")

    def after_commit(self) -> None:
        now = time.monotonic()
        if now - self._last < self.interval or (self._running and not self._running.done()):
            return
        self._last = now
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").close()
        self._running = asyncio.ensure_future(asyncio.to_thread(_checkpoint, self._conn))
        self._running.add_done_callback(_log_failure)

    async def close(self) -> None:
        if self._running is not None:
            await asyncio.wait({self._running})
            self._running = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        logger.warning("write-ahead log checkpoint failed: %s", done.exception())


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


# In the worker thread, the cursor is closed there too: returned through `to_thread`, its last
# reference could drop in another executor thread while the next statement runs, and sqlite3's
# shared statement cache then fails with "bad parameter or other API misuse".
def _read_batch(conn: sqlite3.Connection, sql: str, keys: str) -> list[tuple[Any, ...]]:
    cursor = conn.execute(sql, (keys,))
    rows = [tuple(r) for r in cursor.fetchall()]
    cursor.close()
    return rows


class KeyedReads(Batches[str, tuple[Any, ...] | None]):
    """Point reads by a unique key, for a hot path: `get(key)` is the row `SELECT … WHERE key = ?`
    gives, or None. The keys of concurrent requests go into one statement.

    On SQLite a lone point read runs in the event loop's own thread (a hand-off to a thread per
    read costs more than the read), and under load those reads took an eighth of the loop's
    time, time in which it served nobody. Here the batch (`key IN (SELECT value FROM
    json_each(?))`) runs in a worker thread on a read-only connection of its own while the loop
    carries on (sqlite3 lets go of the GIL inside SQLite): one hand-off per batch, and the reads
    use the machine's other core. On PostgreSQL the batch (`key = ANY($1)`) is one statement
    through the pool instead of one each: less of asyncpg in the loop, fewer waits for a
    connection, less of the database's CPU (which shares the machine), and introspection went
    from about 1,600 to 1,870 requests a second on the same database.
    """

    max_batch = 500  # keys per statement

    def __init__(self, reader: RawReader, select: str, key: str) -> None:
        if not select.startswith("SELECT "):
            raise ValueError("a keyed read is a SELECT statement without its WHERE clause")
        super().__init__()
        self._reader = reader
        # The caller's fixed text; the keys are one parameter.
        columns = select[len("SELECT ") :]
        if reader.is_sqlite:
            where = f"{key} IN (SELECT value FROM json_each(?))"  # noqa: S608
        else:
            where = f"{key} = ANY(?::text[])"
        self._batch = f"SELECT {key}, {columns} WHERE {where}"
        self._conn: sqlite3.Connection | None = None

    async def get(self, key: str) -> tuple[Any, ...] | None:
        return await self.submit(key)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite_reader(self._reader.url, cache_kib=16384)
        return self._conn

    async def run_batch(self, items: list[str]) -> list[tuple[Any, ...] | None]:
        keys = list(dict.fromkeys(items))  # a key asked for twice at once is read once
        if self._reader.is_sqlite:
            rows = await asyncio.to_thread(
                _read_batch, self._connection(), self._batch, json.dumps(keys)
            )
        else:
            rows = await self._reader.fetchall(self._batch, (keys,))
        found = {row[0]: row[1:] for row in rows}
        return [found.get(key) for key in items]

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
