"""The transparency log (issue #6): append rate in batches, and inclusion-proof time by tree size.

Append: a fresh database gets `--entries` pending rows (the outbox rows requests write), then
the server's own sequencer (`transparency.sequencer.Sequencer`, batches of `--batch`) turns
them into leaves, stored nodes and a signed head per batch. The rate is entries sequenced per
second of sequencing (the outbox writes are timed too, as a request pays for them).

Proofs: for each size a fresh database is loaded directly with that many leaves and every
complete-subtree node (computed with `transparency.rfc9162`, inserted in bulk) and one head;
then `--proofs` inclusion proofs for random leaves go through the server's code path
(`transparency.services.inclusion_proof`: the head read, one node query, the path), each
timed; the median per size and its ratio to the smallest size are reported (the target: at
1,000,000 at most 2x the time at 1,000).

    .venv/bin/python -m bench.transparency_log --backend sqlite
    .venv/bin/python -m bench.transparency_log --backend postgresql --sizes 1000,100000,1000000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.harness import postgres_database
from kitemarks.keys import KeyRing
from marketplace.db import Database
from marketplace.migrate import upgrade
from marketplace.settings import Settings
from transparency import rfc9162, services
from transparency.entries import entry_bytes
from transparency.sequencer import Sequencer
from transparency.store import NodeCache

BODY = '{"data_api_id":"dapi_1","purpose":"eligibility_check","scope":"income.verify","service_id":"svc_01","tier":"status"}'


@contextmanager
def database(backend: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="govstore-log-") as folder:
        if backend == "postgresql":
            with postgres_database() as url:
                settings = Settings(data_dir=Path(folder), database_url=url, redis_url=None)
                upgrade(settings)
                yield settings
            return
        settings = Settings(data_dir=Path(folder), database_url=None, redis_url=None)
        upgrade(settings)
        yield settings


async def _append(settings: Settings, entries: int, batch: int) -> tuple[float, float]:
    db = Database(settings)
    ring = KeyRing(settings, db)
    await ring.load()
    sequencer = Sequencer(db, ring, batch_size=batch, interval_seconds=60)
    try:
        rows = [
            ("data.accessed", "2026-12-01T09:00:00.000Z", BODY, f"acc_{n % 500:05d}")
            for n in range(entries)
        ]
        started = time.perf_counter()
        for start in range(0, entries, 100):  # 100 rows per transaction, as a busy batch writes
            async with db.raw_transaction() as tx:
                await tx.executemany(
                    "INSERT INTO transparency_pending (kind, time, body, account_id)"
                    " VALUES (?, ?, ?, ?)",
                    rows[start : start + 100],
                )
        written = time.perf_counter() - started
        started = time.perf_counter()
        done = await sequencer.run_until_idle()
        sequenced = time.perf_counter() - started
        assert done == entries, (done, entries)
        return entries / written, entries / sequenced
    finally:
        await db.dispose()


async def _load_tree(settings: Settings, size: int) -> None:
    """Leaves and nodes straight into the tables, then one head (unsigned: proofs do not read it)."""
    db = Database(settings)
    try:
        tree_size, edge = 0, list[bytes]()
        chunk = 20_000
        for start in range(0, size, chunk):
            end = min(size, start + chunk)
            entries = []
            for index in range(start, end):
                data = entry_bytes("data.accessed", "2026-12-01T09:00:00.000Z", {"n": index})
                entries.append(
                    (index, rfc9162.leaf_hash(data), "data.accessed", None, data.decode())
                )
            tree_size, edge, nodes = rfc9162.append(tree_size, edge, [e[1] for e in entries])
            async with db.raw_transaction() as tx:
                await tx.executemany(
                    "INSERT INTO transparency_entries (leaf_index, leaf_hash, kind, citizen, entry)"
                    " VALUES (?, ?, ?, ?, ?)",
                    entries,
                )
                await tx.executemany(
                    "INSERT INTO transparency_nodes (node_id, hash) VALUES (?, ?)",
                    [(rfc9162.node_id(level, i), h) for level, i, h in nodes],
                )
        async with db.raw_transaction() as tx:
            await tx.executemany(
                "INSERT INTO transparency_heads (tree_size, root_hash, timestamp, kid, signature)"
                " VALUES (?, ?, ?, ?, ?)",
                [(tree_size, rfc9162.root_of(edge), 0, "bench", "bench")],
            )
    finally:
        await db.dispose()


async def _proofs(settings: Settings, size: int, count: int) -> float:
    db = Database(settings)
    cache = NodeCache()  # as the app keeps one per process
    chooser = random.Random(size)
    try:
        await services.inclusion_proof(db, 0, size, cache)  # warm the pool
        times = []
        for _ in range(count):
            index = chooser.randrange(size)
            started = time.perf_counter()
            path = await services.inclusion_proof(db, index, size, cache)
            times.append(time.perf_counter() - started)
            assert len(path) <= size.bit_length()
        return statistics.median(times) * 1_000_000
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--proofs", type=int, default=500)
    args = parser.parse_args(argv)
    with database(args.backend) as settings:
        written, sequenced = asyncio.run(_append(settings, args.entries, args.batch))
    print(
        f"[append] {args.backend}: {args.entries:,} entries; outbox writes {written:,.0f}/s;"
        f" sequenced {sequenced:,.0f} entries/s in batches of {args.batch}",
        flush=True,
    )
    sizes = [int(s) for s in args.sizes.split(",")]
    medians: dict[int, float] = {}
    for size in sizes:
        with database(args.backend) as settings:
            started = time.monotonic()
            asyncio.run(_load_tree(settings, size))
            loaded = time.monotonic() - started
            medians[size] = asyncio.run(_proofs(settings, size, args.proofs))
        print(
            f"[proofs] {args.backend} {size:>9,}: loaded in {loaded:.0f} s;"
            f" inclusion proof median {medians[size]:.0f} µs",
            flush=True,
        )
    print(f"\ninclusion proof by tree size ({args.backend}; median of {args.proofs})\n")
    print("| tree size | median (µs) | ratio to " + f"{sizes[0]:,} |")
    print("|---:|---:|---:|")
    for size in sizes:
        print(f"| {size:,} | {medians[size]:.0f} | {medians[size] / medians[sizes[0]]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
