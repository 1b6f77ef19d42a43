"""The citizen's own records: access log, export, erasure; nobody else's (404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from testkit import PASSWORD, Actor, SignUp, assert_problem, settle

from marketplace.pagination import encode_cursor
from tests.kitemarks.conftest import (
    DataApi,
    Publish,
    Published,
    consent_flow,
    exchange,
    introspect,
)


async def opted_in(client: httpx.AsyncClient, svc: Published, citizen: Actor) -> dict[str, Any]:
    return dict((await exchange(client, svc, await consent_flow(client, citizen, svc))).json())


async def test_access_log_lines_filters_and_paging(
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
    sign_up: SignUp,
) -> None:
    warm = await publish(slug="warm-home")
    other = await publish(slug="bus-pass", name="Bus Pass Renewal", category="transport")
    token = (await opted_in(client, warm, citizen))["access_token"]
    bus_token = (await opted_in(client, other, citizen))["access_token"]
    before = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(3):
        assert (await introspect(client, hmrc, token, case_reference=f"CASE-{n}"))["active"]
    assert (await introspect(client, hmrc, bus_token))["active"]
    r = await client.get("/v1/me/access-log", headers=citizen.headers)
    assert r.status_code == 200, r.text
    lines = r.json()["items"]
    # One line per scope read: each introspection covered both of the consent's scopes.
    assert len(lines) == 8
    assert {x["service"]["slug"] for x in lines[:2]} == {"bus-pass"}
    assert {x["scope"] for x in lines[:2]} == {"income.verify", "income.read"}
    line = lines[2]
    assert line["service"] == {
        "id": warm.service_id,
        "slug": "warm-home",
        "name": line["service"]["name"],
    }
    assert line["case_reference"] == "CASE-2"
    assert line["data_api"]["data_owner"] == "HM Revenue & Customs"
    assert line["scope"] in {"income.verify", "income.read"}
    assert line["tier"] in {"status", "record"}
    assert line["purpose"] and line["purpose_description"]
    by_slug = (
        await client.get(
            "/v1/me/access-log", params={"service": "warm-home"}, headers=citizen.headers
        )
    ).json()["items"]
    assert [x["case_reference"] for x in by_slug] == [f"CASE-{n}" for n in (2, 2, 1, 1, 0, 0)]
    by_id = (
        await client.get(
            "/v1/me/access-log", params={"service": other.service_id}, headers=citizen.headers
        )
    ).json()["items"]
    assert len(by_id) == 2
    page1 = (
        await client.get("/v1/me/access-log", params={"limit": 5}, headers=citizen.headers)
    ).json()
    page2 = (
        await client.get(
            "/v1/me/access-log",
            params={"limit": 5, "cursor": page1["next_cursor"]},
            headers=citizen.headers,
        )
    ).json()
    assert len(page1["items"]) == 5 and len(page2["items"]) == 3 and page2["next_cursor"] is None
    assert not {x["id"] for x in page1["items"]} & {x["id"] for x in page2["items"]}
    assert [x["id"] for x in page1["items"] + page2["items"]] == [x["id"] for x in lines]
    for cursor in ("garbage", encode_cursor(["2026-01-01T00:00:00", 5]), encode_cursor([1, 2])):
        assert_problem(
            await client.get(
                "/v1/me/access-log", params={"cursor": cursor}, headers=citizen.headers
            ),
            400,
        )
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        await client.get("/v1/me/access-log", params={"since": future}, headers=citizen.headers)
    ).json()["items"] == []
    assert (
        len(
            (
                await client.get(
                    "/v1/me/access-log",
                    params={"since": before.isoformat(), "until": future},
                    headers=citizen.headers,
                )
            ).json()["items"]
        )
        == 8
    )
    assert_problem(
        await client.get(
            "/v1/me/access-log", params={"since": "2026-01-01T00:00:00"}, headers=citizen.headers
        ),
        400,
    )
    for wrong in ("yesterday", "0.5", "1700000000"):  # a number is not read as a Unix time
        assert_problem(
            await client.get("/v1/me/access-log", params={"until": wrong}, headers=citizen.headers),
            400,
        )
    # Nobody else sees them.
    stranger = await sign_up("citizen")
    assert (await client.get("/v1/me/access-log", headers=stranger.headers)).json()["items"] == []
    assert_problem(await client.get("/v1/me/access-log"), 401)


async def test_export_holds_everything_and_only_mine(
    client: httpx.AsyncClient, publish: Publish, citizen: Actor, hmrc: DataApi, sign_up: SignUp
) -> None:
    svc = await publish(slug="warm-home")
    token = (await opted_in(client, svc, citizen))["access_token"]
    await introspect(client, hmrc, token, case_reference="CASE-9")
    await client.post(
        "/v1/catalogue/services/warm-home/ratings",
        json={"stars": 4, "comment": "Quick and clear."},
        headers=citizen.headers,
    )
    await client.post(
        "/v1/catalogue/services/warm-home/complaints",
        json={"category": "accuracy", "description": "It said no, HMRC says yes."},
        headers=citizen.headers,
    )
    stranger = await sign_up("citizen")
    r = await client.get("/v1/me/export", headers=citizen.headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["format"] == "govstore-citizen-export/1"
    assert doc["account"]["id"] == citizen.id and doc["account"]["email"] == citizen.email
    assert [c["service"]["slug"] for c in doc["consents"]] == ["warm-home"]
    assert doc["access_log"][0]["case_reference"] == "CASE-9"
    assert doc["ratings"][0]["stars"] == 4
    assert doc["complaints"][0]["category"] == "accuracy"
    assert doc["sign_ins_and_api_tokens"] and all(
        set(t) >= {"prefix", "kind"} for t in doc["sign_ins_and_api_tokens"]
    )
    # Never a secret: no token hashes, no password hash.
    text = json.dumps(doc)
    assert "password" not in text and "token_hash" not in text and citizen.token not in text
    theirs = (await client.get("/v1/me/export", headers=stranger.headers)).json()
    assert theirs["consents"] == [] and theirs["access_log"] == [] and theirs["ratings"] == []
    assert_problem(await client.get("/v1/me/export"), 401)


async def test_erasure(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
) -> None:
    svc = await publish(slug="warm-home")
    token = (await opted_in(client, svc, citizen))["access_token"]
    await introspect(client, hmrc, token)
    r = await client.post(
        "/v1/catalogue/services/warm-home/ratings",
        json={"stars": 5, "comment": "Lovely."},
        headers=citizen.headers,
    )
    assert r.status_code == 201
    await client.post(
        "/v1/catalogue/services/warm-home/complaints",
        json={"category": "privacy", "description": "Too many questions asked."},
        headers=citizen.headers,
    )
    # Re-authentication: a wrong or missing password changes nothing.
    assert_problem(
        await client.request(
            "DELETE", "/v1/me", json={"password": "not my password"}, headers=citizen.headers
        ),
        403,
    )
    assert_problem(await client.request("DELETE", "/v1/me", json={}, headers=citizen.headers), 422)
    assert (await client.get("/v1/account", headers=citizen.headers)).status_code == 200
    r = await client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=citizen.headers
    )
    assert r.status_code == 204, r.text
    await settle(app)
    # Gone: sign-in, account, and the service's token answers inactive.
    assert_problem(await client.get("/v1/account", headers=citizen.headers), 401)
    login = await client.post("/v1/auth/login", json={"email": citizen.email, "password": PASSWORD})
    assert login.status_code == 401
    assert await introspect(client, hmrc, token) == {"active": False}
    # Kept without the person: the rating, the complaint, the public figures.
    page = (await client.get("/v1/catalogue/services/warm-home")).json()
    assert page["ratings"]["count"] == 1
    assert page["transparency"]["opt_ins"] == 1 and page["transparency"]["revocations"] == 1
    assert page["transparency"]["complaints"]["total"] == 1
    platform = app.state.platform
    async with platform.db.session(write=False) as session:
        from sqlmodel import select

        from catalogue.models import Complaint, Rating
        from kitemarks.models import AccessEvent, Consent

        assert (await session.exec(select(Rating))).one().account_id is None
        assert (await session.exec(select(Complaint))).one().account_id is None
        assert (await session.exec(select(Consent))).all() == []
        events = (await session.exec(select(AccessEvent))).all()
        assert events and all(e.account_id == "erased" for e in events)


async def test_erasure_needs_a_signed_in_session_and_another_owner(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, Any]
) -> None:
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "script", "expires_in_days": 30, "scopes": ["read"]},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    api = {"Authorization": f"Bearer {r.json()['token']}"}
    assert_problem(
        await client.request("DELETE", "/v1/me", json={"password": PASSWORD}, headers=api), 403
    )
    body = assert_problem(
        await client.request(
            "DELETE", "/v1/me", json={"password": PASSWORD}, headers=provider.headers
        ),
        409,
    )
    assert organisation["id"] in body["detail"]
    assert (await client.get("/v1/account", headers=provider.headers)).status_code == 200
