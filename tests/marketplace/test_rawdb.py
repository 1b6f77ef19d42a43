"""The raw driver's PostgreSQL connections (`marketplace/rawdb.py`, `Connections`): first come,
first served; reused; never more than the pool size; a connection left unusable is replaced."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from marketplace.rawdb import Connections, RawReader
from marketplace.settings import Settings

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgresql"),
    reason="PostgreSQL's connections: the second CI pass",
)


@pytest.fixture
async def reader(settings: Settings) -> AsyncIterator[RawReader]:
    reader = RawReader(settings.effective_database_url, pool_size=2)
    yield reader
    await reader.close()


def _pool(reader: RawReader) -> Connections:
    return reader._postgres()


async def _backend(reader: RawReader) -> int:
    row = await reader.fetchrow("SELECT pg_backend_pid()", ())
    assert row is not None
    return int(row[0])


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


async def test_connections_are_reused_and_bounded_by_the_pool_size(reader: RawReader) -> None:
    first = await _backend(reader)
    assert await _backend(reader) == first  # one after another: the same connection

    async def slow() -> int:
        row = await reader.fetchrow("SELECT pg_backend_pid() FROM pg_sleep(0.02)", ())
        assert row is not None
        return int(row[0])

    backends = await asyncio.gather(*(slow() for _ in range(20)))
    assert len(set(backends)) == 2  # twenty at once share the pool's two connections


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


async def test_a_closed_pool_refuses_and_closes_what_it_held(reader: RawReader) -> None:
    pool = _pool(reader)
    await _backend(reader)
    await reader.close()
    with pytest.raises(RuntimeError, match="closed"):
        async with pool.connection():
            pass
