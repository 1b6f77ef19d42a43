"""Catalogue search: published services only, full text, filters, sorts, stable cursors, ETags."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from testkit import Actor

from tests.kitemarks.conftest import Publish

BUS = {
    "name": "Bus Pass Renewal",
    "summary": "Renew your concessionary bus pass online in five minutes",
    "description": "Checks your age and address, then posts your new pass.",
    "category": "transport",
}
MEALS = {
    "name": "School Meals Finder",
    "summary": "See whether your children can get free school meals at lunchtime",
    "description": "Uses your benefits status to check free school meals eligibility.",
    "category": "education",
}


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/catalogue/services", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["etag"]
    return dict(r.json())


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


async def test_lists_published_services_with_their_card(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    svc = await publish(slug="bus-pass", **BUS)
    page = await search(client)
    assert page["next_cursor"] is None
    [card] = page["items"]
    assert card["id"] == svc.service_id
    assert card["slug"] == "bus-pass"
    assert card["category"] == "transport"
    assert card["provider"]["name"] == "Acme Health Ltd"
    assert [k["scheme"] for k in card["kitemarks"]] == ["privacy-assured"]
    assert card["scopes"] == ["income.read", "income.verify"]
    assert card["rating"] == {"count": 0, "mean": None}
    assert card["under_review"] is False
    assert card["url"] == "/v1/catalogue/services/bus-pass"


async def test_full_text_with_stemming_and_every_word_required(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(slug="bus-pass", **BUS)
    await publish(slug="meals", **MEALS)
    assert names(await search(client, q="bus")) == ["Bus Pass Renewal"]
    # Stemmed: "renewals" finds "Renewal"; case and accents do not matter.
    assert names(await search(client, q="RENEWALS")) == ["Bus Pass Renewal"]
    assert names(await search(client, q="meal lunchtime")) == ["School Meals Finder"]
    assert names(await search(client, q="bus lunchtime")) == []
    # The provider's name is searchable too.
    assert len((await search(client, q="acme"))["items"]) == 2
    # Query syntax never reaches the engine: punctuation only finds nothing, quotes are words.
    assert names(await search(client, q='"* OR NEAR(')) == []
    assert names(await search(client, q='bus" OR "x')) == []


async def test_relevance_puts_name_matches_first(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(
        slug="pass-check",
        name="Passport Photo Checker",
        summary="Check a passport photo meets the rules before you apply for a bus ride",
        description="Upload a photo.",
        category="other",
    )
    await publish(slug="bus-pass", **BUS)
    page = await search(client, q="bus")
    # Both mention "bus"; only one has it in its name, and the older one is not preferred.
    assert names(page) == ["Bus Pass Renewal", "Passport Photo Checker"]


async def test_filters(client: httpx.AsyncClient, publish: Publish) -> None:
    await publish(slug="bus-pass", **BUS)
    await publish(slug="meals", scopes=("income.verify",), kitemarks=(), **MEALS)
    assert names(await search(client, category="education")) == ["School Meals Finder"]
    assert names(await search(client, kitemark="privacy-assured")) == ["Bus Pass Renewal"]
    assert names(await search(client, scope="income.read")) == ["Bus Pass Renewal"]
    assert sorted(names(await search(client, scope="income.verify"))) == [
        "Bus Pass Renewal",
        "School Meals Finder",
    ]
    assert names(await search(client, q="school", category="transport")) == []
    assert names(await search(client, kitemark="no-such-scheme")) == []


async def test_sorts_and_stable_cursor_while_services_are_added(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    for n, word in enumerate(["Alder", "Birch", "Cedar", "Damson"]):
        await publish(
            slug=f"tree-{n}",
            name=f"{word} Allotment Booking",
            summary="Book an allotment plot near you for the growing season",
            description="Allotments for residents.",
            category="housing",
        )
    by_name = await search(client, sort="name", limit=2)
    assert names(by_name) == ["Alder Allotment Booking", "Birch Allotment Booking"]
    newest = await search(client, sort="newest")
    assert names(newest)[0] == "Damson Allotment Booking"
    # A page, then a new service that sorts before the cursor: the next page neither repeats
    # nor skips anything that was there.
    first = await search(client, q="allotment", limit=2)
    await publish(
        slug="tree-new",
        name="Aspen Allotment Booking",
        summary="Book an allotment plot near you for the growing season",
        description="Allotments for residents.",
        category="housing",
    )
    second = await search(client, q="allotment", limit=2, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    seen = names(first) + names(second)
    assert len(seen) == len(set(seen))
    for word in ["Alder", "Birch", "Cedar", "Damson"]:
        assert f"{word} Allotment Booking" in seen
    # Names: the added one sorts first, after the cursor it is not repeated either.
    page2 = await search(client, sort="name", limit=2, cursor=by_name["next_cursor"])
    assert names(page2) == ["Cedar Allotment Booking", "Damson Allotment Booking"]


async def test_etag_revalidation_and_change(
    client: httpx.AsyncClient, publish: Publish, admin: Actor
) -> None:
    svc = await publish(slug="bus-pass", **BUS)
    r = await client.get("/v1/catalogue/services", params={"q": "bus"})
    etag = r.headers["etag"]
    again = await client.get(
        "/v1/catalogue/services", params={"q": "bus"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = await client.get(
        "/v1/catalogue/services",
        params={"q": "bus"},
        headers={"If-None-Match": f'"other", W/{etag}'},
    )
    assert weak.status_code == 304
    other_query = await client.get(
        "/v1/catalogue/services", params={"q": "pass"}, headers={"If-None-Match": etag}
    )
    assert other_query.status_code == 200
    # Suspension: gone from search at once, and the old tag no longer matches.
    r = await client.post(
        f"/v1/services/{svc.service_id}/suspend",
        json={"reason": "investigating a data breach"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    after = await client.get(
        "/v1/catalogue/services", params={"q": "bus"}, headers={"If-None-Match": etag}
    )
    assert after.status_code == 200
    assert after.json()["items"] == []
    assert (await client.get("/v1/catalogue/services/bus-pass")).status_code == 404
    r = await client.post(
        f"/v1/services/{svc.service_id}/reinstate",
        json={"reason": "resolved"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert names(await search(client, q="bus")) == ["Bus Pass Renewal"]


async def test_withdrawn_and_unreviewed_services_are_not_listed(
    client: httpx.AsyncClient, publish: Publish, provider: Actor
) -> None:
    svc = await publish(slug="bus-pass", **BUS)
    r = await client.post(
        f"/v1/services/{svc.service_id}/releases/{svc.release_id}/withdraw",
        json={"reason": "closing the service"},
        headers=provider.headers,
    )
    assert r.status_code == 200, r.text
    assert (await search(client))["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "popularity"},
        {"category": "spaceflight"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJuYW1lIiwxXQ"},  # ["name", 1]: wrong arity for the sort
        {"q": "x" * 201},
    ],
)
async def test_bad_parameters_are_400_problems(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    r = await client.get("/v1/catalogue/services", params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 400


async def test_a_cursor_of_another_sort_or_forged_values_is_400(
    client: httpx.AsyncClient, publish: Publish
) -> None:
    import base64
    import json

    def forged(values: list[Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    for n in range(3):
        await publish(slug=f"bus-{n}", **{**BUS, "name": f"Bus Pass Renewal {'ABC'[n]}"})
    page = await search(client, sort="name", limit=1)
    r = await client.get(
        "/v1/catalogue/services", params={"sort": "newest", "cursor": page["next_cursor"]}
    )
    assert r.status_code == 400
    for values in (["newest", "1; DROP TABLE x"], ["newest", 2**70], ["rating", 9.5, 1, 1]):
        r = await client.get("/v1/catalogue/services", params={"cursor": forged(values)})
        assert r.status_code == 400, (values, r.text)


async def test_relevance_then_rating_then_newest_across_pages(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    from tests.kitemarks.conftest import consent_flow, exchange

    common = {
        "summary": "Book a slot at the recycling centre near you this week",
        "description": "Slots for residents.",
        "category": "housing",
    }
    rated_low = await publish(slug="tip-a", name="Recycling Slot Booker", **common)
    await publish(slug="tip-b", name="Recycling Centre Finder", **common)  # unrated, name match
    rated_high = await publish(slug="tip-c", name="Household Waste Slots", **common)
    await publish(slug="tip-d", name="Garden Waste Slots", **common)  # newest, no name match
    for svc, stars in ((rated_low, 2), (rated_high, 5)):
        await exchange(client, svc, await consent_flow(client, citizen, svc))
        slug = "tip-a" if svc is rated_low else "tip-c"
        r = await client.post(
            f"/v1/catalogue/services/{slug}/ratings", json={"stars": stars}, headers=citizen.headers
        )
        assert r.status_code == 201, r.text
    # Name matches first (rated before unrated), then the rest (rated before newer).
    expected = [
        "Recycling Slot Booker",
        "Recycling Centre Finder",
        "Household Waste Slots",
        "Garden Waste Slots",
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "recycling", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await search(client, **params)
        seen += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert names(await search(client, q="recycling", limit=10)) == expected
    # By rating: the better rated first, the unrated last (newest first among them).
    assert names(await search(client, q="slot", sort="rating")) == [
        "Household Waste Slots",
        "Recycling Slot Booker",
        "Garden Waste Slots",
        "Recycling Centre Finder",
    ]
