"""The service page, ratings, complaints (with re-review past a threshold) and outcomes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from testkit import Actor, SignUp, assert_problem, running_receiver, settle

from marketplace.webhooks.signing import verify
from tests.kitemarks.conftest import (
    DataApi,
    Publish,
    Published,
    consent_flow,
    exchange,
    introspect,
)


async def opted_in(client: httpx.AsyncClient, svc: Published, citizen: Actor) -> dict[str, Any]:
    """The citizen consents through the OAuth flow; returns the service's tokens."""
    return dict((await exchange(client, svc, await consent_flow(client, citizen, svc))).json())


async def page(client: httpx.AsyncClient, slug: str = "warm-home") -> dict[str, Any]:
    r = await client.get(f"/v1/catalogue/services/{slug}")
    assert r.status_code == 200, r.text
    return dict(r.json())


# -- the service page --------------------------------------------------------------------------


async def test_service_page_says_everything_a_citizen_needs(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, sign_up: SignUp
) -> None:
    svc = await publish(slug="warm-home")
    body = await page(client)
    assert body["id"] == svc.service_id and body["name"] == "Warm Home Grant Checker"
    assert body["provider"]["name"] == "Acme Health Ltd"
    assert body["release"] == {"id": svc.release_id, "number": 1}
    [kitemark] = body["kitemarks"]
    assert kitemark["scheme"] == "privacy-assured" and kitemark["valid"] is True
    assert kitemark["status"] == "active" and kitemark["status_url"].endswith("/status")
    uses = {u["scope"]: u for u in body["data_uses"]}
    assert set(uses) == {"income.verify", "income.read"}
    verify_use = uses["income.verify"]
    assert verify_use["tier"] == "status" and verify_use["purpose"] == "eligibility_check"
    assert "yes or no" in verify_use["plain_english"]
    assert "HM Revenue" in verify_use["plain_english"] or verify_use["data_owner"]
    assert uses["income.read"]["optional"] is True
    assert "say no" in uses["income.read"]["plain_english"]
    assert body["ratings"] == {
        "count": 0,
        "mean": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert [o["metric"] for o in body["outcomes"]] == [
        "eligible_households",
        "applications_completed",
    ]
    assert body["transparency"] == {
        "opt_ins": 0,
        "active_consents": 0,
        "revocations": 0,
        "expiries": 0,
        "complaints": {"total": 0, "open": 0, "resolved": 0, "median_days_to_resolve": None},
    }
    # Opting in and revoking move the public figures; nobody is named.
    await opted_in(client, svc, citizen)
    other = await sign_up("citizen")
    await opted_in(client, svc, other)
    [consent] = (await client.get("/v1/me/consents", headers=other.headers)).json()["items"]
    await client.delete(f"/v1/me/consents/{consent['id']}", headers=other.headers)
    figures = (await page(client))["transparency"]
    assert figures["opt_ins"] == 2 and figures["active_consents"] == 1
    assert figures["revocations"] == 1
    assert citizen.email not in json.dumps(await page(client))


async def test_service_page_etag_and_404s(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, sign_up: SignUp
) -> None:
    svc = await publish(slug="warm-home")
    r = await client.get("/v1/catalogue/services/warm-home")
    etag = r.headers["etag"]
    r2 = await client.get("/v1/catalogue/services/warm-home", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    await opted_in(client, svc, citizen)
    r3 = await client.get("/v1/catalogue/services/warm-home", headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["etag"] != etag
    assert_problem(await client.get("/v1/catalogue/services/no-such-service"), 404)


# -- ratings -----------------------------------------------------------------------------------


async def test_only_verified_citizens_rate_once_each_and_the_mean_is_computed(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, sign_up: SignUp
) -> None:
    svc = await publish(slug="warm-home")
    url = "/v1/catalogue/services/warm-home/ratings"
    stranger = await sign_up("citizen")
    assert_problem(await client.post(url, json={"stars": 5}, headers=stranger.headers), 403)
    assert_problem(await client.post(url, json={"stars": 5}), 401)
    await opted_in(client, svc, citizen)
    r = await client.post(url, json={"stars": 2, "comment": "Slow."}, headers=citizen.headers)
    assert r.status_code == 201, r.text
    assert r.json()["verified"] is True
    # One per citizen: a second rating replaces the first.
    r = await client.post(url, json={"stars": 4, "comment": "Better now."}, headers=citizen.headers)
    assert r.status_code == 200, r.text
    other = await sign_up("citizen")
    await opted_in(client, svc, other)
    # A revoked consent still counts: the citizen used the service.
    [consent] = (await client.get("/v1/me/consents", headers=other.headers)).json()["items"]
    await client.delete(f"/v1/me/consents/{consent['id']}", headers=other.headers)
    assert (await client.post(url, json={"stars": 5}, headers=other.headers)).status_code == 201
    ratings = (await page(client))["ratings"]
    assert ratings["count"] == 2 and ratings["mean"] == 4.5
    assert ratings["distribution"]["4"] == 1 and ratings["distribution"]["5"] == 1
    listing = (await client.get("/v1/catalogue/services", params={"q": "warm"})).json()
    assert listing["items"][0]["rating"] == {"count": 2, "mean": 4.5}
    public = (await client.get(url)).json()["items"]
    assert [p["stars"] for p in public] == [5, 4]
    assert "account_id" not in json.dumps(public) and citizen.id not in json.dumps(public)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"stars": 0}, "/stars"),
        ({"stars": 6}, "/stars"),
        ({"stars": "five"}, "/stars"),
        ({"stars": 3, "comment": "x" * 1001}, "/comment"),
        ({"stars": 3, "comment": "Great, see https://spam.example for prizes"}, "/comment"),
        ({"stars": 3, "comment": "mail me at someone@example.com"}, "/comment"),
        ({"stars": 1, "comment": "What a shit service"}, "/comment"),
        ({"stars": 1, "comment": "THIS IS THE WORST SERVICE I HAVE EVER USED"}, "/comment"),
        ({"stars": 1, "comment": "baaaaaaaaaaaaaaaaaad"}, "/comment"),
        ({"stars": 1, "comment": "   "}, "/comment"),
        ({"stars": 1, "extra": True}, "/extra"),
    ],
)
async def test_rating_input_is_checked(
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    body: dict[str, Any],
    pointer: str,
) -> None:
    svc = await publish(slug="warm-home")
    await opted_in(client, svc, citizen)
    r = await client.post(
        "/v1/catalogue/services/warm-home/ratings", json=body, headers=citizen.headers
    )
    assert_problem(r, 422, pointer)
    assert (await page(client))["ratings"]["count"] == 0


# -- complaints --------------------------------------------------------------------------------


async def test_complaint_webhook_response_resolution_and_who_may_see(
    client: httpx.AsyncClient,
    app: Starlette,
    publish: Publish,
    citizen: Actor,
    provider: Actor,
    organisation: dict[str, Any],
    reviewer: Actor,
    sign_up: SignUp,
) -> None:
    secret = "a-shared-secret-for-signing-webhooks"
    svc = await publish(slug="warm-home")
    async with running_receiver() as receiver:
        r = await client.put(
            f"/v1/organisations/{organisation['id']}/webhook",
            json={"url": receiver.url, "secret": secret},
            headers=provider.headers,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            "/v1/catalogue/services/warm-home/complaints",
            json={"category": "data_misuse", "description": "They emailed me adverts."},
            headers=citizen.headers,
        )
        assert r.status_code == 201, r.text
        complaint = r.json()
        await settle(app)
        received = []
        for headers, raw in receiver.received:
            assert verify(secret, headers["govstore-signature"], raw)
            received.append((headers["govstore-event"], json.loads(raw)))
    [(_, event)] = [(n, p) for n, p in received if n == "complaint.received"]
    assert event["data"]["category"] == "data_misuse"
    assert citizen.email not in json.dumps(event) and citizen.id not in json.dumps(event)
    assert complaint["status"] == "open" and complaint["release_id"] == svc.release_id
    cid = complaint["id"]
    stranger = await sign_up("citizen")
    other_provider = await sign_up("provider")
    for who in (stranger, other_provider):
        assert_problem(await client.get(f"/v1/complaints/{cid}", headers=who.headers), 404)
        assert_problem(
            await client.post(
                f"/v1/complaints/{cid}/responses", json={"message": "x"}, headers=who.headers
            ),
            404,
        )
        assert_problem(
            await client.get(f"/v1/services/{svc.service_id}/complaints", headers=who.headers),
            404,
        )
    # The complainant can read it, not answer it.
    assert (await client.get(f"/v1/complaints/{cid}", headers=citizen.headers)).status_code == 200
    assert_problem(
        await client.post(
            f"/v1/complaints/{cid}/responses", json={"message": "hm"}, headers=citizen.headers
        ),
        403,
    )
    r = await client.post(
        f"/v1/complaints/{cid}/responses",
        json={"message": "Sorry: we have removed you from the list."},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "responded" and r.json()["responses"][0]["by"] == "provider"
    listed = (
        await client.get(f"/v1/services/{svc.service_id}/complaints", headers=reviewer.headers)
    ).json()["items"]
    assert [c["id"] for c in listed] == [cid]
    r = await client.post(
        f"/v1/complaints/{cid}/resolve",
        json={"resolution": "Marketing stopped and apology sent."},
        headers=reviewer.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    assert_problem(
        await client.post(
            f"/v1/complaints/{cid}/resolve", json={"resolution": "again"}, headers=provider.headers
        ),
        409,
    )
    mine = (await client.get("/v1/me/complaints", headers=citizen.headers)).json()["items"]
    assert mine[0]["status"] == "resolved" and len(mine[0]["responses"]) == 1
    assert (await client.get("/v1/me/complaints", headers=stranger.headers)).json()["items"] == []
    figures = (await page(client))["transparency"]["complaints"]
    assert figures["total"] == 1 and figures["resolved"] == 1
    assert figures["median_days_to_resolve"] is not None


async def test_complaints_past_the_threshold_reopen_review_and_the_service_keeps_working(
    make_app: Any,
    publish: Publish,
    sign_up: SignUp,
    reviewer: Actor,
    hmrc: DataApi,
) -> None:
    app = await make_app(complaint_review_threshold=3)
    from testkit import client_for

    async with client_for(app) as client:
        svc = await publish(slug="warm-home")
        first = await sign_up("citizen")
        token = await opted_in(client, svc, first)
        for n in range(3):
            who = first if n == 0 else await sign_up("citizen")
            r = await client.post(
                "/v1/catalogue/services/warm-home/complaints",
                json={"category": "accuracy", "description": f"Wrong answer number {n}."},
                headers=who.headers,
            )
            assert r.status_code == 201, r.text
        escalated = r.json()["escalated_to_review"]
        assert escalated is True
        release = (
            await client.get(f"/v1/review/releases/{svc.release_id}", headers=reviewer.headers)
        ).json()
        assert release["status"] == "awaiting_review"
        listing = (await client.get("/v1/catalogue/services")).json()["items"]
        assert listing[0]["under_review"] is True
        assert (await page(client))["under_review"] is True
        # Under review, not offline: tokens and kitemarks keep working until a decision.
        answer = await introspect(client, hmrc, token["access_token"])
        assert answer["active"] is True
        assert (await page(client))["kitemarks"][0]["valid"] is True


async def test_complaint_input_is_checked(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor
) -> None:
    await publish(slug="warm-home")
    url = "/v1/catalogue/services/warm-home/complaints"
    for body, pointer in [
        ({"category": "rudeness", "description": "They were rude to me."}, "/category"),
        ({"category": "other", "description": "short"}, "/description"),
        ({"category": "other"}, "/description"),
        ({"category": "other", "description": "x" * 5001}, "/description"),
    ]:
        assert_problem(await client.post(url, json=body, headers=citizen.headers), 422, pointer)
    assert_problem(
        await client.post(
            "/v1/catalogue/services/nope/complaints",
            json={"category": "other", "description": "Nothing works at all."},
            headers=citizen.headers,
        ),
        404,
    )


# -- outcomes ----------------------------------------------------------------------------------


async def test_outcomes_reported_by_members_shown_publicly_history_for_staff(
    client: httpx.AsyncClient,
    publish: Publish,
    provider: Actor,
    admin: Actor,
    citizen: Actor,
    sign_up: SignUp,
) -> None:
    svc = await publish(slug="warm-home")
    url = f"/v1/services/{svc.service_id}/outcomes"
    for period, value in (("2026-09", 120), ("2026-10", 140), ("2026-10", 145)):
        r = await client.post(
            url,
            json={"period": period, "metric": "eligible_households", "value": value},
            headers=provider.headers,
        )
        assert r.status_code == 201, r.text
    series = {o["metric"]: o for o in (await page(client))["outcomes"]}
    reports = series["eligible_households"]["reports"]
    # The later report for 2026-10 replaces the public figure.
    assert [(r["period"], r["value"]) for r in reports] == [("2026-10", 145), ("2026-09", 120)]
    assert series["applications_completed"]["reports"] == []
    history = (await client.get(url, headers=admin.headers)).json()["items"]
    assert [h["value"] for h in history] == [145, 140, 120]
    for who in (citizen, await sign_up("provider")):
        assert_problem(await client.get(url, headers=who.headers), 404)
        assert_problem(
            await client.post(
                url,
                json={"period": "2026-10", "metric": "eligible_households", "value": 1},
                headers=who.headers,
            ),
            404,
        )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"period": "2026-13", "metric": "eligible_households", "value": 1}, "/period"),
        ({"period": "2999-Q1", "metric": "eligible_households", "value": 1}, "/period"),
        ({"period": "last month", "metric": "eligible_households", "value": 1}, "/period"),
        ({"period": "2026-Q2", "metric": "happiness", "value": 1}, "/metric"),
        ({"period": "2026-Q2", "metric": "eligible_households", "value": -1}, "/value"),
        ({"period": "2026-Q2", "metric": "eligible_households", "value": 1.5}, "/value"),
        ({"period": "2026-Q2", "metric": "applications_completed", "value": 101}, "/value"),
        ({"period": "2026", "metric": "applications_completed", "value": "lots"}, "/value"),
    ],
)
async def test_outcome_input_is_checked(
    client: httpx.AsyncClient,
    publish: Publish,
    provider: Actor,
    body: dict[str, Any],
    pointer: str,
) -> None:
    svc = await publish(slug="warm-home")
    r = await client.post(
        f"/v1/services/{svc.service_id}/outcomes", json=body, headers=provider.headers
    )
    assert_problem(r, 422, pointer)
