from __future__ import annotations

import httpx
import pytest

import govstore

from .support import BASE_URL, MockServer


def scope(name: str) -> dict[str, str]:
    return {
        "name": name,
        "title": name.title(),
        "description": f"About {name}",
        "tier": "status",
        "sensitivity": "low",
        "data_owner": "HMRC",
        "created_at": "2026-01-02T03:04:05Z",
    }


def three_pages() -> MockServer:
    return MockServer(
        httpx.Response(200, json={"items": [scope("a"), scope("b")], "next_cursor": "c1"}),
        httpx.Response(200, json={"items": [scope("c")], "next_cursor": "c2"}),
        httpx.Response(200, json={"items": [scope("d")], "next_cursor": None}),
    )


def test_iterating_follows_every_cursor() -> None:
    server = three_pages()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        scopes = list(client.scopes.list(limit=2))

    assert [s.name for s in scopes] == ["a", "b", "c", "d"]
    assert all(isinstance(s, govstore.Scope) for s in scopes)
    assert [dict(r.url.params) for r in server.requests] == [
        {"limit": "2"},
        {"limit": "2", "cursor": "c1"},
        {"limit": "2", "cursor": "c2"},
    ]
    assert all(r.url.path == "/v1/scopes" for r in server.requests)


def test_pages_are_fetched_only_when_needed() -> None:
    server = three_pages()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        first = next(iter(client.scopes.list()))

    assert first.name == "a"
    assert len(server.requests) == 1
    assert "limit" not in server.requests[0].url.params


def test_pages_yields_whole_pages() -> None:
    server = three_pages()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        pages = list(client.scopes.list().pages())

    assert [len(page.items) for page in pages] == [2, 1, 1]
    assert [page.next_cursor for page in pages] == ["c1", "c2", None]
    assert isinstance(pages[0], govstore.Page)


def test_listing_can_start_from_a_cursor() -> None:
    server = MockServer(httpx.Response(200, json={"items": [scope("d")], "next_cursor": None}))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        names = [s.name for s in client.scopes.list(cursor="c2")]

    assert names == ["d"]
    assert server.last.url.params["cursor"] == "c2"


def test_an_empty_list() -> None:
    server = MockServer(httpx.Response(200, json={"items": [], "next_cursor": None}))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        assert list(client.scopes.list()) == []


def test_a_repeated_cursor_stops_the_loop() -> None:
    server = MockServer(
        httpx.Response(200, json={"items": [scope("a")], "next_cursor": "c1"}),
        httpx.Response(200, json={"items": [scope("a")], "next_cursor": "c1"}),
    )

    client = govstore.Client(base_url=BASE_URL, transport=server.transport)
    with client, pytest.raises(govstore.GovStoreError, match="same cursor"):
        list(client.scopes.list())


def test_an_error_on_a_later_page_is_raised() -> None:
    server = MockServer(
        httpx.Response(200, json={"items": [scope("a")], "next_cursor": "c1"}),
        httpx.Response(404, json={"title": "Not found", "status": 404}),
    )

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        pager = iter(client.scopes.list())
        assert next(pager).name == "a"
        with pytest.raises(govstore.NotFoundError):
            next(pager)


async def test_async_iterating_follows_every_cursor() -> None:
    server = three_pages()

    async with govstore.AsyncClient(base_url=BASE_URL, transport=server.transport) as client:
        pager = client.scopes.list(limit=2)
        assert isinstance(pager, govstore.AsyncPager)
        names = [s.name async for s in pager]

    assert names == ["a", "b", "c", "d"]
    assert [r.url.params.get("cursor") for r in server.requests] == [None, "c1", "c2"]


async def test_async_pages_yields_whole_pages() -> None:
    server = three_pages()

    async with govstore.AsyncClient(base_url=BASE_URL, transport=server.transport) as client:
        pages = [page async for page in client.scopes.list().pages()]

    assert [page.next_cursor for page in pages] == ["c1", "c2", None]


async def test_async_lists_with_a_path_parameter() -> None:
    release = {
        "id": "rel_1",
        "number": 1,
        "status": "submitted",
        "created_at": "2026-01-02T03:04:05Z",
        "status_changed_at": "2026-01-02T03:04:05Z",
    }
    server = MockServer(httpx.Response(200, json={"items": [release], "next_cursor": None}))

    async with govstore.AsyncClient(base_url=BASE_URL, transport=server.transport) as client:
        releases = [r async for r in client.releases.list("svc 1")]

    assert [r.id for r in releases] == ["rel_1"]
    assert server.last.url.raw_path == b"/v1/services/svc%201/releases"


def listing(slug: str) -> dict[str, object]:
    return {
        "id": f"svc_{slug}",
        "slug": slug,
        "name": slug.title(),
        "summary": "A service",
        "category": "benefits",
        "provider": {"id": "org_1", "name": "Acme"},
        "kitemarks": [],
        "scopes": [],
        "rating": {"count": 0, "mean": None},
        "under_review": False,
        "listed_at": "2026-01-02T03:04:05Z",
        "url": f"http://govstore.test/v1/catalogue/services/{slug}",
    }


def two_search_pages() -> MockServer:
    return MockServer(
        httpx.Response(200, json={"items": [listing("a"), listing("b")], "next_cursor": "s1"}),
        httpx.Response(200, json={"items": [listing("c")], "next_cursor": None}),
    )


SEARCH_PARAMS = {"q": "warm home", "category": "benefits", "sort": "name", "limit": "2"}


def test_search_follows_the_cursor_and_keeps_its_filters() -> None:
    server = two_search_pages()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        found = client.catalogue.search("warm home", category="benefits", sort="name", limit=2)
        assert server.requests == []  # nothing is sent until the results are used
        slugs = [service.slug for service in found]

    assert slugs == ["a", "b", "c"]
    assert [dict(r.url.params) for r in server.requests] == [
        SEARCH_PARAMS,
        {**SEARCH_PARAMS, "cursor": "s1"},
    ]


async def test_async_search_follows_the_cursor_and_keeps_its_filters() -> None:
    server = two_search_pages()

    async with govstore.AsyncClient(base_url=BASE_URL, transport=server.transport) as client:
        found = client.catalogue.search(
            "warm home", category="benefits", sort=govstore.SearchSort.NAME, limit=2
        )
        slugs = [service.slug async for service in found]

    assert slugs == ["a", "b", "c"]
    assert [dict(r.url.params) for r in server.requests] == [
        SEARCH_PARAMS,
        {**SEARCH_PARAMS, "cursor": "s1"},
    ]


def test_search_pages_can_be_resumed_from_a_cursor() -> None:
    server = two_search_pages()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        first = next(iter(client.catalogue.search(limit=2).pages()))
        assert first.next_cursor == "s1"
        rest = [s.slug for s in client.catalogue.search(limit=2, cursor=first.next_cursor)]

    assert [s.slug for s in first.items] == ["a", "b"] and rest == ["c"]
    assert server.last.url.params["cursor"] == "s1"


def test_citizen_and_provider_lists_follow_cursors() -> None:
    complaint = {
        "id": "cmp_1",
        "service": {"id": "svc_1", "slug": "a", "name": "A"},
        "release_id": "rel_1",
        "category": "other",
        "description": "x",
        "status": "open",
        "resolution": None,
        "created_at": "2026-01-02T03:04:05Z",
        "resolved_at": None,
        "escalated_to_review": False,
        "responses": [],
    }
    second = {**complaint, "id": "cmp_2"}
    server = MockServer(
        httpx.Response(200, json={"items": [complaint], "next_cursor": "m1"}),
        httpx.Response(200, json={"items": [second], "next_cursor": None}),
        httpx.Response(200, json={"items": [complaint], "next_cursor": "p1"}),
        httpx.Response(200, json={"items": [second], "next_cursor": None}),
    )

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        mine = [c.id for c in client.me.complaints()]
        theirs = [c.id for c in client.complaints.list("svc_1", status="open")]

    assert mine == theirs == ["cmp_1", "cmp_2"]
    assert [(r.url.path, dict(r.url.params)) for r in server.requests] == [
        ("/v1/me/complaints", {}),
        ("/v1/me/complaints", {"cursor": "m1"}),
        ("/v1/services/svc_1/complaints", {"status": "open"}),
        ("/v1/services/svc_1/complaints", {"status": "open", "cursor": "p1"}),
    ]
