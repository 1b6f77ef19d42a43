"""Ranked search on PostgreSQL walks `catalogue_postings` (migration 0007); SQLite reads FTS5.

The answers must be the same on both engines: every test here checks results on both, and on
PostgreSQL also that the postings are exactly what the listings' text vectors say, through
rating changes, delisting and relisting.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from alembic import command
from starlette.applications import Starlette
from testkit import Actor

from marketplace.migrate import alembic_config
from marketplace.settings import Settings
from tests.catalogue.test_search import BUS, names, search
from tests.kitemarks.conftest import Publish, Published, consent_flow, exchange

COMMON = {
    "summary": "Book a slot at the recycling centre near you this week",
    "description": "Slots for residents.",
    "category": "housing",
}


def _raw(app: Starlette) -> Any:
    return app.state.platform.db.raw


async def _postgres(app: Starlette) -> bool:
    return not _raw(app).is_sqlite


async def _postings(app: Starlette) -> list[tuple[Any, ...]]:
    return await _raw(app).fetchall(
        "SELECT term, rank_key, in_name FROM catalogue_postings ORDER BY term, rank_key", []
    )


async def assert_postings_follow_entries(app: Starlette) -> list[tuple[Any, ...]]:
    """On PostgreSQL: one posting per lexeme of each listing, under its current rank key."""
    postings = await _postings(app)
    expected = await _raw(app).fetchall(
        "SELECT CASE WHEN length(l) > 100 THEN '#' || md5(l) ELSE l END, e.rank_key, "
        "l = ANY (tsvector_to_array(e.name_vector)) FROM catalogue_entries e "
        "CROSS JOIN LATERAL unnest(tsvector_to_array(e.search_vector)) AS l "
        "ORDER BY 1, 2",
        [],
    )
    assert postings == expected
    return postings


async def _rank_key(app: Starlette, service_id: str) -> int:
    row = await _raw(app).fetchrow(
        "SELECT rank_key FROM catalogue_entries WHERE service_id = ?", [service_id]
    )
    assert row is not None
    return int(row[0])


async def _rate(
    client: httpx.AsyncClient, citizen: Actor, svc: Published, slug: str, stars: int
) -> None:
    await exchange(client, svc, await consent_flow(client, citizen, svc))
    r = await client.post(
        f"/v1/catalogue/services/{slug}/ratings", json={"stars": stars}, headers=citizen.headers
    )
    assert r.status_code == 201, r.text


async def test_postings_follow_a_rating_change(
    app: Starlette, client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    booker = await publish(slug="tip-a", name="Recycling Slot Booker", **COMMON)
    await publish(slug="tip-b", name="Recycling Centre Finder", **COMMON)
    # Unrated: the newer first.
    assert names(await search(client, q="recycling")) == [
        "Recycling Centre Finder",
        "Recycling Slot Booker",
    ]
    old_key = await _rank_key(app, booker.service_id)
    await _rate(client, citizen, booker, "tip-a", 4)
    new_key = await _rank_key(app, booker.service_id)
    assert new_key < old_key  # better rated ranks first
    assert names(await search(client, q="recycling")) == [
        "Recycling Slot Booker",
        "Recycling Centre Finder",
    ]
    # Page by page across the move, with the other sort that walks the postings.
    page = await search(client, q="recycling centre", sort="rating", limit=1)
    assert names(page) == ["Recycling Slot Booker"]
    page = await search(client, q="recycling centre", sort="rating", cursor=page["next_cursor"])
    assert names(page) == ["Recycling Centre Finder"]
    assert page["next_cursor"] is None
    if await _postgres(app):
        postings = await assert_postings_follow_entries(app)
        keys = {key for _, key, _ in postings}
        assert old_key not in keys
        assert ("recycl", new_key, True) in postings
        assert ("slot", new_key, True) in postings
        assert ("week", new_key, False) in postings  # the summary's words, not in the name


async def test_delisting_removes_the_postings_and_relisting_restores_them(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    admin: Actor,
    provider: Actor,
) -> None:
    bus = await publish(slug="bus-pass", **BUS)
    await publish(slug="tip-a", name="Recycling Slot Booker", **COMMON)
    postgres = await _postgres(app)
    key = await _rank_key(app, bus.service_id)
    if postgres:
        assert ("bus", key, True) in await assert_postings_follow_entries(app)
    r = await client.post(
        f"/v1/services/{bus.service_id}/suspend",
        json={"reason": "investigating a data breach"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert names(await search(client, q="bus")) == []
    assert names(await search(client, q="pass", sort="rating")) == []
    if postgres:
        postings = await assert_postings_follow_entries(app)
        assert key not in {k for _, k, _ in postings}
        assert postings  # the other listing's are untouched
    r = await client.post(
        f"/v1/services/{bus.service_id}/reinstate",
        json={"reason": "resolved"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert names(await search(client, q="renewals")) == ["Bus Pass Renewal"]
    if postgres:
        await assert_postings_follow_entries(app)
    r = await client.post(
        f"/v1/services/{bus.service_id}/releases/{bus.release_id}/withdraw",
        json={"reason": "closing the service"},
        headers=provider.headers,
    )
    assert r.status_code == 200, r.text
    assert names(await search(client, q="bus")) == []
    if postgres:
        postings = await assert_postings_follow_entries(app)
        assert "bus" not in {t for t, _, _ in postings}


async def test_multi_word_and_stemmed_queries_by_tier(
    app: Starlette, client: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(slug="bus-pass", **BUS)  # "online" in its summary only
    await publish(
        slug="online-pass",
        name="Online Pass Checker",
        summary="Check a travel pass before you set out",
        description="For any pass.",
        category="transport",
    )
    await publish(
        slug="passport",
        name="Passport Photo Checker",
        summary="Check your photo meets the rules",
        description="Upload a photo.",
        category="other",
    )
    # Stemmed on both engines: "passes" is "pass", "checkers" is "checker".
    assert names(await search(client, q="PASSES online")) == [
        "Online Pass Checker",  # both words in the name: tier 1
        "Bus Pass Renewal",  # "online" in the summary only: tier 0, though newer
    ]
    assert names(await search(client, q="checkers photo")) == ["Passport Photo Checker"]
    assert names(await search(client, q="renewals passes bus")) == ["Bus Pass Renewal"]
    assert names(await search(client, q="pass photo")) == []
    # Repeated words and words in any order are the same query.
    assert names(await search(client, q="online pass pass")) == names(
        await search(client, q="pass online")
    )
    if await _postgres(app):
        await assert_postings_follow_entries(app)


async def test_a_word_in_the_summary_only_is_tier_0_across_pages(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(
        slug="allot-name",
        name="Allotment Plot Booking",
        summary="Book a plot near you for the growing season",
        description="For residents.",
        category="housing",
    )
    await publish(
        slug="allot-summary",
        name="Garden Plot Booking",
        summary="Book an allotment near you for the growing season",
        description="For residents.",
        category="housing",
    )
    await publish(
        slug="allot-later",
        name="Community Allotment Finder",
        summary="Find a community garden",
        description="For residents.",
        category="housing",
    )
    expected = ["Community Allotment Finder", "Allotment Plot Booking", "Garden Plot Booking"]
    seen: list[str] = []
    params: dict[str, Any] = {"q": "allotments", "limit": 1}
    while True:
        page = await search(client, **params)
        seen += names(page)
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == expected
    assert names(await search(client, q="allotments", limit=2)) == expected[:2]
    # Neither name holds "growing": both tier 0, the newer first.
    assert names(await search(client, q="allotment growing")) == [
        "Garden Plot Booking",
        "Allotment Plot Booking",
    ]


async def test_terms_that_seldom_meet_past_the_walk_budget(
    client: httpx.AsyncClient, publish: Publish, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a short walk hands over to the GIN index: the answer does not change."""
    # The rarest-first choice and the walk's budget, made small enough to matter here.
    monkeypatch.setattr("catalogue.search.WALK", 2)
    monkeypatch.setattr("catalogue.search.PROBE", 2)
    await publish(
        slug="meter-0",
        name="Parking Meter Finder",
        summary="Find a parking meter near you today",
        description="Meters.",
        category="transport",
    )
    for n, town in enumerate(["Ashford", "Brayton", "Cranley", "Dunmore"]):
        await publish(
            slug=f"parking-{n}",
            name=f"{town} Parking Permit",
            summary="Apply for a residents parking permit online",
            description="Permits.",
            category="transport",
        )
    await publish(
        slug="meter-1",
        name="Meter Reading Helper",
        summary="Send a gas meter reading about parking",
        description="Readings.",
        category="housing",
    )
    assert names(await search(client, q="parking meter")) == [
        "Parking Meter Finder",
        "Meter Reading Helper",
    ]
    seen: list[str] = []
    params: dict[str, Any] = {"q": "meters parking", "limit": 1}
    while True:
        page = await search(client, **params)
        seen += names(page)
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["Parking Meter Finder", "Meter Reading Helper"]
    assert names(await search(client, q="parking permit", category="transport")) == [
        "Dunmore Parking Permit",
        "Cranley Parking Permit",
        "Brayton Parking Permit",
        "Ashford Parking Permit",
    ]
    assert names(await search(client, q="parking meter", category="housing")) == [
        "Meter Reading Helper"
    ]


async def test_stop_words_only_and_long_words(
    app: Starlette, client: httpx.AsyncClient, publish: Publish
) -> None:
    long_word = "x" * 150
    await publish(
        slug="long-word",
        name="Bus Pass Renewal",
        summary=BUS["summary"],
        description=f"Reference {long_word} for the records office.",
        category="transport",
    )
    # A word longer than a posting's term column is still indexed and found.
    assert names(await search(client, q=long_word)) == ["Bus Pass Renewal"]
    assert names(await search(client, q=f"bus {long_word}")) == ["Bus Pass Renewal"]
    assert names(await search(client, q=long_word[:-1])) == []
    # Stop words only: nothing matches, on either engine, in any sort.
    for sort in ("relevance", "rating", "newest", "name"):
        page = await search(client, q="the and", sort=sort)
        assert page == {"items": [], "next_cursor": None}, sort
    if await _postgres(app):
        postings = await assert_postings_follow_entries(app)
        assert any(term.startswith("#") for term, _, _ in postings)


async def test_the_migration_fills_the_postings_from_the_listings(
    app: Starlette, client: httpx.AsyncClient, publish: Publish, settings: Settings
) -> None:
    await publish(slug="bus-pass", **BUS)
    await publish(slug="tip-a", name="Recycling Slot Booker", **COMMON)
    before = names(await search(client, q="acme", sort="rating"))  # the provider's name
    assert before == ["Recycling Slot Booker", "Bus Pass Renewal"]
    if not await _postgres(app):
        return  # SQLite has no postings: 0007 changes nothing there
    written = await assert_postings_follow_entries(app)
    config = alembic_config(settings)
    await asyncio.to_thread(command.downgrade, config, "0006")
    try:
        missing = await _raw(app).fetchrow("SELECT to_regclass('catalogue_postings')", [])
        assert missing == (None,)
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    assert await assert_postings_follow_entries(app) == written
    assert names(await search(client, q="acme", sort="rating")) == before
    assert names(await search(client, q="slots recycling")) == ["Recycling Slot Booker"]
