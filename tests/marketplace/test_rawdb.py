"""The raw driver (`marketplace/rawdb.py`): a write transaction sees its own writes and a failing
write undoes the whole transaction; on SQLite it runs in the event loop's thread, yet waits for
another process's write lock without blocking the loop (also when its caller gives up), and its
commits reach the database file through checkpoints run off the loop;
keyed reads answer each caller with its own row (concurrent callers share one
statement, on SQLite run off the event loop);
PostgreSQL's connections (`Connections`) are first come, first served, reused, never more than
the pool size, and one left unusable is replaced."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from marketplace import rawdb
from marketplace.rawdb import Connections, KeyedReads, RawReader
from marketplace.settings import Settings

postgresql_only = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgresql"),
    reason="PostgreSQL's connections: the second CI pass",
)
sqlite_only = pytest.mark.skipif(
    (os.environ.get("DATABASE_URL") or "").startswith("postgresql"),
    reason="SQLite's write lock and write-ahead log: the first CI pass",
)


@pytest.fixture
async def reader(settings: Settings) -> AsyncIterator[RawReader]:
    reader = RawReader(settings.effective_database_url, pool_size=2)
    yield reader
    await reader.close()


def _pool(reader: RawReader) -> Connections:
    return reader._postgres()


async def test_a_transaction_sees_its_own_writes_and_a_failing_write_undoes_them_all(
    reader: RawReader,
) -> None:
    async with reader.transaction() as tx:
        await tx.executemany("CREATE TABLE rawdb_probe (k integer PRIMARY KEY)", [()])
    try:
        async with reader.transaction() as tx:
            await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(1,), (2,)])
            assert await tx.fetchval("SELECT count(*) FROM rawdb_probe") == 2
        with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
            async with reader.transaction() as tx:
                await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(3,)])
                await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(1,)])
        rows = await reader.fetchall("SELECT k FROM rawdb_probe ORDER BY k", ())
        assert rows == [(1,), (2,)]  # nothing of the failed transaction, and it is not left open
        async with reader.transaction() as tx:
            await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(4,)])
        assert len(await reader.fetchall("SELECT k FROM rawdb_probe", ())) == 3
    finally:
        async with reader.transaction() as tx:
            await tx.executemany("DROP TABLE rawdb_probe", [()])


def _path(reader: RawReader) -> str:
    from sqlalchemy.engine import make_url

    return make_url(reader.url).database or ""


@pytest.fixture
async def probe_table(reader: RawReader) -> AsyncIterator[None]:
    async with reader.transaction() as tx:
        await tx.executemany("CREATE TABLE rawdb_probe (k integer PRIMARY KEY, v text)", [()])
    yield
    async with reader.transaction() as tx:
        await tx.executemany("DROP TABLE rawdb_probe", [()])


@sqlite_only
async def test_a_transaction_waits_for_another_process_without_blocking_the_loop(
    reader: RawReader, probe_table: None
) -> None:
    other = sqlite3.connect(_path(reader), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with reader.transaction() as tx:
            await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(1,)])

    beat = asyncio.create_task(ticker())
    try:
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the lock...
        assert ticks >= 10  # ...while the event loop carries on
        other.execute("ROLLBACK")
        await asyncio.wait_for(writing, 5)
    finally:
        beat.cancel()
        other.close()
    assert await reader.fetchall("SELECT k FROM rawdb_probe", ()) == [(1,)]


@sqlite_only
async def test_a_caller_cancelled_while_waiting_for_the_lock_leaves_nothing_open(
    reader: RawReader, probe_table: None
) -> None:
    other = sqlite3.connect(_path(reader), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write(k: int) -> None:
        async with reader.transaction() as tx:
            await tx.executemany("INSERT INTO rawdb_probe (k) VALUES (?)", [(k,)])

    try:
        given_up = asyncio.create_task(write(1))
        await asyncio.sleep(0.1)
        given_up.cancel()
        with pytest.raises(asyncio.CancelledError):
            await given_up
        # Its BEGIN is still waiting in a worker thread; when the lock comes free it may begin
        # a transaction there. The next caller waits for that and starts afresh.
        other.execute("ROLLBACK")
        await asyncio.wait_for(write(2), 5)
    finally:
        other.close()
    assert await reader.fetchall("SELECT k FROM rawdb_probe", ()) == [(2,)]
    assert reader._writer is not None and not reader._writer.in_transaction


@sqlite_only
async def test_commits_reach_the_database_file_through_checkpoints_off_the_loop(
    reader: RawReader, probe_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def in_database_file() -> int:
        # `immutable=1` reads the database file alone, not the write-ahead log.
        conn = sqlite3.connect(f"file:{_path(reader)}?immutable=1", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM rawdb_probe").fetchone()[0])
        finally:
            conn.close()

    monkeypatch.setattr(rawdb.Checkpoints, "interval", 3600.0)
    async with reader.transaction() as tx:  # the checkpoint after this one is due at once...
        await tx.executemany("INSERT INTO rawdb_probe (k, v) VALUES (?, ?)", [(0, "x")])
    checkpoints = reader._checkpoints
    assert checkpoints is not None and checkpoints._running is not None
    await checkpoints._running
    rows = [(k, "x" * 500) for k in range(1, 3001)]  # about 400 pages: SQLite would not fold
    async with reader.transaction() as tx:  # ...the next one is not: the log keeps the rows
        await tx.executemany("INSERT INTO rawdb_probe (k, v) VALUES (?, ?)", rows)
    assert in_database_file() <= 1
    monkeypatch.setattr(rawdb.Checkpoints, "interval", 0.0)
    async with reader.transaction() as tx:
        await tx.executemany("INSERT INTO rawdb_probe (k, v) VALUES (?, ?)", [(5000, "y")])
    assert checkpoints._running is not None
    await checkpoints._running
    assert in_database_file() == 3002


async def _backend(reader: RawReader) -> int:
    row = await reader.fetchrow("SELECT pg_backend_pid()", ())
    assert row is not None
    return int(row[0])


@postgresql_only
async def test_a_request_that_arrives_later_waits_behind_one_already_waiting(
    settings: Settings,
) -> None:
    reader = RawReader(settings.effective_database_url, pool_size=1)
    order: list[str] = []

    async def read(name: str) -> None:
        await reader.fetchrow("SELECT 1", ())
        order.append(name)

    try:
        async with _pool(reader).connection():  # the only connection is busy
            waiting = asyncio.create_task(read("waiting"))
            await asyncio.sleep(0.05)  # it is queued now
            # Ready to run before the waiter is woken: a queue that lets it take what was just
            # handed to the waiter (asyncio.Queue, which asyncpg's pool uses) serves it first,
            # and sends the waiter to the back of the line.
            newcomer = asyncio.create_task(read("newcomer"))
        await asyncio.gather(waiting, newcomer)
    finally:
        await reader.close()
    assert order == ["waiting", "newcomer"]


@postgresql_only
async def test_connections_are_reused_and_bounded_by_the_pool_size(reader: RawReader) -> None:
    first = await _backend(reader)
    assert await _backend(reader) == first  # one after another: the same connection

    async def slow() -> int:
        row = await reader.fetchrow("SELECT pg_backend_pid() FROM pg_sleep(0.02)", ())
        assert row is not None
        return int(row[0])

    backends = await asyncio.gather(*(slow() for _ in range(20)))
    assert len(set(backends)) == 2  # twenty at once share the pool's two connections


@postgresql_only
async def test_a_refused_statement_keeps_its_connection(reader: RawReader) -> None:
    before = await _backend(reader)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await reader.fetchrow("SELECT 1 / 0", ())
    assert await _backend(reader) == before
    with pytest.raises(asyncpg.UniqueViolationError):
        async with reader.transaction() as tx:
            await tx.fetchall("CREATE TEMPORARY TABLE t (k int PRIMARY KEY)")
            await tx.executemany("INSERT INTO t VALUES (?)", [(1,), (1,)])
    assert await _backend(reader) == before  # rolled back, then back in the pool


@postgresql_only
async def test_a_cancelled_statement_closes_its_connection(reader: RawReader) -> None:
    before = await _backend(reader)
    task = asyncio.create_task(reader.fetchrow("SELECT pg_sleep(5)", ()))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancelled connection is not handed out again: the next read gets a fresh one.
    after = await _backend(reader)
    assert after != before


@postgresql_only
async def test_a_connection_the_server_dropped_is_replaced(reader: RawReader) -> None:
    before = await _backend(reader)
    killer = await asyncpg.connect(_pool(reader)._dsn)
    try:
        await killer.execute("SELECT pg_terminate_backend($1)", before)
    finally:
        await killer.close()
    await asyncio.sleep(0.2)  # the connection hears of it
    after = await _backend(reader)
    assert after != before


@postgresql_only
async def test_a_closed_pool_refuses_and_closes_what_it_held(reader: RawReader) -> None:
    pool = _pool(reader)
    await _backend(reader)
    await reader.close()
    with pytest.raises(RuntimeError, match="closed"):
        async with pool.connection():
            pass


async def test_keyed_reads_answer_each_caller_with_its_own_row(
    reader: RawReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[int] = []
    real = rawdb._read_batch

    def counted(conn: sqlite3.Connection, sql: str, keys: str) -> list[tuple[Any, ...]]:
        statements.append(len(json.loads(keys)))
        return real(conn, sql, keys)

    real_fetchall = reader.fetchall

    async def counted_fetchall(sql: str, params: Any) -> list[tuple[Any, ...]]:
        statements.append(len(params[0]))
        return await real_fetchall(sql, params)

    monkeypatch.setattr(rawdb, "_read_batch", counted)
    if not reader.is_sqlite:
        monkeypatch.setattr(reader, "fetchall", counted_fetchall)
    reads = KeyedReads(reader, "SELECT p.k, p.label FROM rawdb_probe p", "p.label")
    try:
        with pytest.raises((sqlite3.OperationalError, asyncpg.UndefinedTableError)):
            await reads.get("one")  # no such table yet: the caller hears of it
        async with reader.transaction() as tx:
            await tx.executemany(
                "CREATE TABLE rawdb_probe (k integer PRIMARY KEY, label text UNIQUE)", [()]
            )
            await tx.executemany(
                "INSERT INTO rawdb_probe (k, label) VALUES (?, ?)",
                [(n, f"label-{n}") for n in range(100)],
            )
        wanted = [f"label-{n}" for n in range(100)] + ["label-7", "missing"]
        rows = await asyncio.gather(*(reads.get(label) for label in wanted))
        assert rows[:100] == [(n, f"label-{n}") for n in range(100)]
        assert rows[100] == (7, "label-7")  # asked twice at once: both callers answered
        assert rows[101] is None
        # The 102 callers, arriving together, shared one statement for the 101 labels.
        assert statements[1:] == [101]
    finally:
        await reads.close()
        async with reader.transaction() as tx:
            await tx.executemany("DROP TABLE IF EXISTS rawdb_probe", [()])
