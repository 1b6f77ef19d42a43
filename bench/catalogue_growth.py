"""How a ranked catalogue search grows with the catalogue (issue #5: at 1,000,000 services at
most 2x its time at 10,000).

For each size, a fresh database is loaded with the catalogue scenario's generated services
(`bench/scenarios/catalogue.py`), then the server's own search (`catalogue.search.Search`)
runs through the server's driver-level reader
(`marketplace.rawdb.RawReader`) for a fixed set of queries: no HTTP, no response cache, so
the figure is the database work of a cache miss. Each query runs `--repeat` times; the
median is taken per query, and the report gives the mean of those medians per shape of query
and over all of them, and each size's ratio to the smallest.

    .venv/bin/python -m bench.catalogue_growth --backend sqlite --sizes 10000,100000,1000000
    .venv/bin/python -m bench.catalogue_growth --backend postgresql --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl

from bench.harness import postgres_database
from bench.scenarios.catalogue import TOPICS, load_catalogue, places
from catalogue.search import SearchQuery, search_for
from marketplace.migrate import upgrade
from marketplace.rawdb import RawReader
from marketplace.settings import Settings

# Shapes of query, from rare to common words: a place and a topic, a place, a topic, a topic
# word shared by several topics, with a filter, and the browse (no words, by rating).
QUERIES: dict[str, list[str]] = {
    "place + topic": [
        f"q={t}+{w.split()[0].lower()}" for t, (w, _) in zip(places()[:8], TOPICS[:8], strict=True)
    ],
    "place": [f"q={t}" for t in places()[10:18]],
    "topic": [f"q={w.lower().replace(' ', '+')}" for w, _ in TOPICS[:8]],
    "common word": ["q=school", "q=housing", "q=online", "q=service", "q=minutes", "q=council"],
    "word + filter": [
        "q=parking&category=transport",
        "q=school&kitemark=accessible",
        "q=housing&scope=income.verify",
        "q=benefit&category=benefits",
    ],
    "browse": ["category=health", "kitemark=privacy-assured", "sort=newest", "sort=name"],
}


def _query(text: str) -> SearchQuery:
    return SearchQuery.model_validate(dict(parse_qsl(text)))


async def _time_queries(url: str, repeat: int) -> dict[str, float]:
    reader = RawReader(url, pool_size=2)
    per_shape: dict[str, float] = {}
    try:
        for shape, texts in QUERIES.items():
            medians = []
            for text in texts:
                search = search_for(_query(text), sqlite=reader.is_sqlite)
                rows, _ = await search.run(reader)  # warm the pages
                assert rows, text
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    await search.run(reader)
                    times.append(time.perf_counter() - started)
                medians.append(statistics.median(times))
            per_shape[shape] = statistics.fmean(medians) * 1000
    finally:
        await reader.close()
    per_shape["all"] = statistics.fmean(v for k, v in per_shape.items())
    return per_shape


async def _load(url: str, size: int) -> float:
    started = time.monotonic()
    await load_catalogue(url, size)
    return time.monotonic() - started


def measure(backend: str, size: int, repeat: int) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="govstore-growth-") as folder:
        if backend == "postgresql":
            with postgres_database() as url:
                upgrade(Settings(data_dir=Path(folder), database_url=url, redis_url=None))
                loaded = asyncio.run(_load(url, size))
                return loaded, asyncio.run(_time_queries(url, repeat))
        url = f"sqlite+aiosqlite:///{folder}/growth.sqlite3"
        upgrade(Settings(data_dir=Path(folder), database_url=url, redis_url=None))
        loaded = asyncio.run(_load(url, size))
        return loaded, asyncio.run(_time_queries(url, repeat))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        loaded, times = measure(args.backend, size, args.repeat)
        results[size] = times
        print(
            f"[growth] {args.backend} {size:>9,}: loaded in {loaded:.0f} s; "
            f"mean query {times['all']:.2f} ms",
            flush=True,
        )
    base = results[sizes[0]]
    shapes = list(next(iter(results.values())))
    print(
        f"\nranked search time by catalogue size ({args.backend}; ms per query, median of "
        f"{args.repeat}; ratio to {sizes[0]:,})\n"
    )
    print("| query | " + " | ".join(f"{s:,}" for s in sizes) + " | ratio largest/smallest |")
    print("|---|" + "---:|" * len(sizes) + "---:|")
    for shape in shapes:
        row = [f"{results[s][shape]:.2f}" for s in sizes]
        ratio = results[sizes[-1]][shape] / base[shape] if base[shape] else float("nan")
        print(f"| {shape} | " + " | ".join(row) + f" | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
