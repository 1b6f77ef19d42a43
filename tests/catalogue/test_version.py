"""The catalogue version: known without a read per request on PostgreSQL (LISTEN/NOTIFY), and a
change made through any process is seen by every other, also when the listening connection is
dropped (every request reads the counter until it is back)."""

from __future__ import annotations

import asyncio
import time

import httpx
from starlette.applications import Starlette
from testkit import Actor, AppFactory, client_for

from catalogue.version import VersionWatch
from tests.catalogue.test_search import BUS, names
from tests.kitemarks.conftest import Publish


def _watch(app: Starlette) -> VersionWatch:
    watch = app.state.platform.services["catalogue_version"]
    assert isinstance(watch, VersionWatch)
    return watch


async def _until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.05)
    assert condition(), "not within the time allowed"  # type: ignore[operator]


async def _bus_search(client: httpx.AsyncClient, etag: str | None = None) -> httpx.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return await client.get("/v1/catalogue/services", params={"q": "bus"}, headers=headers)


async def test_a_change_made_in_one_process_is_seen_by_another(
    app: Starlette, make_app: AppFactory, publish: Publish, client: httpx.AsyncClient, admin: Actor
) -> None:
    other = await make_app()  # a second app process on the same database
    postgres = not app.state.platform.db.raw.is_sqlite
    if postgres:
        await _until(lambda: _watch(other).listening and _watch(app).listening)
    else:
        assert not _watch(other).listening  # SQLite reads the counter on every request
    svc = await publish(slug="bus-pass", **BUS)
    async with client_for(other) as elsewhere:
        first = await _bus_search(elsewhere)
        assert names(first.json()) == ["Bus Pass Renewal"]
        etag = first.headers["etag"]
        assert (await _bus_search(elsewhere, etag)).status_code == 304
        if postgres:
            assert _watch(other)._known is not None  # answered without reading the counter
        # Suspended through the first process: the second stops listing it once the commit is
        # announced (a NOTIFY: milliseconds); the first process knows at once.
        r = await client.post(
            f"/v1/services/{svc.service_id}/suspend",
            json={"reason": "investigating a data breach"},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
        here = await _bus_search(client, etag)
        assert here.status_code == 200 and here.json()["items"] == []
        answers: list[httpx.Response] = []

        async def fetch() -> None:
            answers.append(await _bus_search(elsewhere, etag))

        deadline = time.monotonic() + 5
        await fetch()
        while answers[-1].status_code == 304 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            await fetch()
        assert answers[-1].status_code == 200
        assert answers[-1].json()["items"] == []
        assert answers[-1].headers["etag"] == here.headers["etag"]


async def test_a_dropped_listener_falls_back_to_reading_and_reconnects(
    app: Starlette, publish: Publish, client: httpx.AsyncClient, admin: Actor
) -> None:
    raw = app.state.platform.db.raw
    if raw.is_sqlite:
        return  # nothing listens on SQLite (the other test checks it reads every time)
    watch = _watch(app)
    await _until(lambda: watch.listening)
    svc = await publish(slug="bus-pass", **BUS)
    etag = (await _bus_search(client)).headers["etag"]
    # PostgreSQL drops the listening connection (a restart, a failover, an administrator).
    await raw.fetchall(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE query LIKE 'LISTEN%' AND datname = current_database()",
        [],
    )
    await _until(lambda: not watch.listening)
    # Meanwhile a change made outside any watch (no after-commit announcement) still shows.
    await raw.fetchall(
        "UPDATE catalogue_version SET value = value + 1 WHERE id = 1 RETURNING value", []
    )
    assert (await _bus_search(client, etag)).status_code == 200
    await _until(lambda: watch.listening)
    r = await client.post(
        f"/v1/services/{svc.service_id}/suspend",
        json={"reason": "investigating a data breach"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (await _bus_search(client)).json()["items"] == []
