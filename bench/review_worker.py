"""Automated review throughput of one worker process, with many services already listed.

    .venv/bin/python -m bench.review_worker [--backend sqlite|postgresql] [--listed 100000]
        [--releases 2000] [--concurrency 10]

Loads `--listed` services whose releases are approved (so their names are in the confusable-name
index), submits `--releases` new releases, then runs the real automated-review job (both of its
transactions, every check, the findings written) for all of them in one process with
`--concurrency` jobs at a time, and prints releases per second. The one-off build of the name
index (at a worker's first job) is timed separately. Issue #3 asks for at least 200 per second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.checks import generate_names
from bench.harness import postgres_database
from bench.scenarios import foundation
from marketplace.db import utcnow
from marketplace.ids import new_id
from marketplace.migrate import upgrade
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.settings import Settings
from marketplace.worker import build_platform
from review.automated import listed_names, run_automated_review


async def prepare(url: str, listed: int, releases: int) -> list[str]:
    await foundation.load(url, listed)
    engine = create_async_engine(url)
    # Realistic, distinct names (the foundation scenario numbers one template's name).
    services = sa.table("services", sa.column("id"), sa.column("name"))
    async with engine.begin() as conn:
        ids = [row[0] for row in (await conn.execute(sa.select(services.c.id))).all()]
        names = generate_names(random.Random(7), len(ids))
        await conn.execute(
            sa.update(services)
            .where(services.c.id == sa.bindparam("sid"))
            .values(name=sa.bindparam("new_name")),
            [{"sid": i, "new_name": n} for i, n in zip(ids, names, strict=True)],
        )
    name_of = dict(zip(ids, names, strict=True))
    table = sa.table(
        "releases",
        sa.column("id"),
        sa.column("service_id"),
        sa.column("number"),
        sa.column("manifest", sa.JSON),
        sa.column("guideline_version_id"),
        sa.column("status"),
        sa.column("previous_release_id"),
        sa.column("submitted_by"),
        sa.column("created_at"),
        sa.column("status_changed_at"),
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.update(table).values(status=ReleaseStatus.APPROVED.value))
            rows = (
                await conn.execute(
                    sa.select(
                        table.c.id,
                        table.c.service_id,
                        table.c.manifest,
                        table.c.guideline_version_id,
                    ).limit(releases)
                )
            ).all()
            now = utcnow()
            new = [
                {
                    "id": new_id("rel"),
                    "service_id": service_id,
                    "number": 2,
                    "manifest": {**manifest, "name": name_of[service_id][:80]},
                    "guideline_version_id": version_id,
                    "status": ReleaseStatus.SUBMITTED.value,
                    "previous_release_id": release_id,
                    "submitted_by": None,
                    "created_at": now,
                    "status_changed_at": now,
                }
                for release_id, service_id, manifest, version_id in rows
            ]
            await conn.execute(sa.insert(table), new)
            # The webhook dispatcher of a running platform is up to date with past events.
            last_event = (await conn.execute(sa.text("SELECT max(id) FROM audit_events"))).scalar()
            await conn.execute(
                sa.text("INSERT INTO event_cursors (name, last_event_id) VALUES ('webhooks', :n)"),
                {"n": last_event or 0},
            )
    finally:
        await engine.dispose()
    return [row["id"] for row in new]


async def measure(settings: Settings, ids: list[str], concurrency: int) -> tuple[float, float]:
    platform = build_platform(settings)
    try:
        started = time.perf_counter()
        async with platform.db.session(write=False) as session:
            await listed_names(platform).refresh(session)
        index_seconds = time.perf_counter() - started
        gate = asyncio.Semaphore(concurrency)

        async def one(release_id: str) -> str:
            async with gate:
                return await run_automated_review(platform, release_id)

        started = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in ids))
        elapsed = time.perf_counter() - started
        finished = sum(r in {"awaiting_review", "changes_requested"} for r in results)
        if finished != len(ids):
            raise SystemExit(f"only {finished} of {len(ids)} releases finished automated review")
        return index_seconds, len(ids) / elapsed
    finally:
        await platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--listed", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=2_000)
    # A worker runs up to arq's max_jobs (10) jobs at once; measure the same.
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(postgres_database()) if args.backend == "postgresql" else None
        settings = Settings(data_dir=folder, database_url=url, redis_url=None)
        upgrade(settings)
        ids = asyncio.run(prepare(settings.effective_database_url, args.listed, args.releases))
        index_seconds, rate = asyncio.run(measure(settings, ids, args.concurrency))
    print(
        f"automated review, {args.backend}, {args.listed} listed services, {args.releases} "
        f"releases, concurrency {args.concurrency}: {rate:.0f} releases/s "
        f"(name index built once in {index_seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
