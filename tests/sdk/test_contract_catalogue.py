"""The SDK's catalogue, complaint, outcome and citizen-record calls against the real server.

As in test_contract.py, every result must be fully modelled: a field the server sends that
the SDK does not know would land in `model_extra`, and fails here. The services are
published, and citizens consent, with the trust tests' fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import govstore
import httpx
import pytest
from starlette.applications import Starlette
from testkit import PASSWORD, Actor

from tests.kitemarks.conftest import DataApi, Publish, Published, consent_flow, exchange, introspect
from tests.sdk.test_contract import BASE_URL, assert_fully_modelled, collect

MakeSDK = Callable[[str | None], govstore.AsyncClient]


@pytest.fixture
async def sdk(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MakeSDK]:
    """SDK clients on the in-process app, with a token or none, closed after the test."""
    monkeypatch.delenv("GOVSTORE_BASE_URL", raising=False)
    monkeypatch.delenv("GOVSTORE_TOKEN", raising=False)
    clients: list[govstore.AsyncClient] = []

    def make(token: str | None) -> govstore.AsyncClient:
        client = govstore.AsyncClient(
            base_url=BASE_URL, token=token, transport=httpx.ASGITransport(app=app)
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def opt_in(client: httpx.AsyncClient, svc: Published, citizen: Actor) -> str:
    """The citizen consents through the OAuth flow; returns the service's access token."""
    response = await exchange(client, svc, await consent_flow(client, citizen, svc))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_search_the_catalogue_and_read_a_service_page(sdk: MakeSDK, publish: Publish) -> None:
    warm = await publish(slug="warm-home")
    await publish(slug="bus-pass", name="Bus Pass Renewal", category="transport")
    anyone = sdk(None)

    found = await collect(anyone.catalogue.search("warm home"))
    assert [listing.slug for listing in found] == ["warm-home", "bus-pass"]  # name matches first
    assert found[0].id == warm.service_id and found[0].rating.mean is None
    renewal = await collect(anyone.catalogue.search("renewal"))
    assert [listing.slug for listing in renewal] == ["bus-pass"]
    pages = [page async for page in anyone.catalogue.search(sort="name", limit=1).pages()]
    assert [[listing.slug for listing in page.items] for page in pages] == [
        ["bus-pass"],
        ["warm-home"],
    ]
    transport = await collect(anyone.catalogue.search(category="transport"))
    assert [listing.slug for listing in transport] == ["bus-pass"]
    by_kitemark = await collect(
        anyone.catalogue.search(kitemark="privacy-assured", scope="income.verify")
    )
    assert {listing.slug for listing in by_kitemark} == {"warm-home", "bus-pass"}

    page = await anyone.catalogue.get("warm-home")
    assert_fully_modelled(page)
    assert page.id == warm.service_id and page.release["id"] == warm.release_id
    assert page.kitemarks[0].status == govstore.GrantStatus.ACTIVE
    assert {use.scope for use in page.data_uses} == {"income.verify", "income.read"}
    assert page.ratings.count == 0 and page.transparency.complaints.total == 0
    with pytest.raises(govstore.NotFoundError):
        await anyone.catalogue.get("no-such-service")


async def test_ratings_complaints_and_outcomes(
    sdk: MakeSDK,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    provider: Actor,
) -> None:
    svc = await publish(slug="warm-home")
    as_citizen = sdk(citizen.token)
    as_provider = sdk(provider.token)

    with pytest.raises(govstore.PermissionDeniedError):
        await as_citizen.catalogue.rate("warm-home", 5)  # no consent yet
    await opt_in(client, svc, citizen)
    first = await as_citizen.catalogue.rate("warm-home", 2, "Slow.")
    again = await as_citizen.catalogue.rate("warm-home", 4)
    for rating in (first, again):
        assert_fully_modelled(rating)
    assert (first.replaced, again.replaced) == (False, True)
    assert again.id == first.id and again.service.id == svc.service_id
    assert (again.stars, again.comment, again.verified) == (4, None, True)
    public = await collect(sdk(None).catalogue.ratings("warm-home"))
    assert [(r.stars, r.verified) for r in public] == [(4, True)]

    filed = await as_citizen.catalogue.complain(
        "warm-home", govstore.ComplaintCategory.PRIVACY, "It asked for more than it said."
    )
    assert_fully_modelled(filed)
    assert filed.status == govstore.ComplaintStatus.OPEN and filed.service.slug == "warm-home"
    open_ones = await collect(as_provider.complaints.list(svc.service_id, status="open"))
    assert [c.id for c in open_ones] == [filed.id]
    responded = await as_provider.complaints.respond(filed.id, "We are looking into it.")
    assert_fully_modelled(responded)
    assert responded.status == govstore.ComplaintStatus.RESPONDED
    assert [(r.by, r.message) for r in responded.responses] == [
        ("provider", "We are looking into it.")
    ]
    resolved = await as_provider.complaints.resolve(filed.id, "We no longer ask for it.")
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    with pytest.raises(govstore.ConflictError):
        await as_provider.complaints.resolve(filed.id, "Again.")
    seen = await as_citizen.complaints.get(filed.id)
    assert_fully_modelled(seen)
    assert seen.resolution == "We no longer ask for it."
    assert [c.id for c in await collect(as_citizen.me.complaints())] == [filed.id]
    assert await collect(as_provider.complaints.list(svc.service_id, status="open")) == []

    period = f"{datetime.now(UTC).year - 1}"
    reported = await as_provider.services.report_outcome(
        svc.service_id, period, "eligible_households", 120
    )
    assert_fully_modelled(reported)
    assert (reported.period, reported.value, reported.release_id) == (period, 120, svc.release_id)
    await as_provider.services.report_outcome(svc.service_id, period, "applications_completed", 7)
    history = await collect(
        as_provider.services.outcomes(svc.service_id, metric="eligible_households")
    )
    assert [o.id for o in history] == [reported.id]
    with pytest.raises(govstore.UnprocessableEntityError) as raised:
        await as_provider.services.report_outcome(svc.service_id, period, "not_declared", 1)
    assert [e.pointer for e in raised.value.errors] == ["/metric"]

    page = await as_citizen.catalogue.get("warm-home")
    assert page.ratings.count == 1 and page.ratings.distribution["4"] == 1
    assert page.transparency.complaints.resolved == 1
    series = {o.metric: o for o in page.outcomes}
    assert [(r.period, r.value) for r in series["eligible_households"].reports] == [(period, 120)]


async def test_the_citizens_access_log_export_and_erasure(
    sdk: MakeSDK,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
) -> None:
    svc = await publish(slug="warm-home")
    as_citizen = sdk(citizen.token)
    token = await opt_in(client, svc, citizen)
    before = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(2):
        assert (await introspect(client, hmrc, token, case_reference=f"CASE-{n}"))["active"]
    await as_citizen.catalogue.rate("warm-home", 5)

    log = await collect(as_citizen.me.access_log(limit=3))  # 2 reads x 2 scopes, across pages
    assert len(log) == 4
    assert log[0].case_reference == "CASE-1" and log[0].data_api.id == hmrc.id
    assert {entry.scope for entry in log} == {"income.verify", "income.read"}
    filtered = await collect(
        as_citizen.me.access_log(service="warm-home", since=before, until=datetime.now(UTC))
    )
    assert [entry.id for entry in filtered] == [entry.id for entry in log]
    assert await collect(as_citizen.me.access_log(until=before)) == []

    export = await as_citizen.me.export()
    assert_fully_modelled(export)
    assert export.format == "govstore-citizen-export/1" and export.account.id == citizen.id
    assert [c.service.id for c in export.consents] == [svc.service_id]
    assert len(export.access_log) == 4 and [r.stars for r in export.ratings] == [5]

    with pytest.raises(govstore.PermissionDeniedError):
        await as_citizen.me.erase("not my password")
    assert as_citizen.token == citizen.token
    await as_citizen.me.erase(PASSWORD)
    assert as_citizen.token is None
    with pytest.raises(govstore.AuthenticationError):
        await sdk(citizen.token).me.export()
