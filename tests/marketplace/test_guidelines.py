"""Guideline versions, scopes, kitemark schemes and data APIs: admin writes, public reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from testkit import GUIDELINES, SCHEMES, SCOPES, Actor, assert_problem


async def test_guideline_version_lifecycle(
    client: httpx.AsyncClient, admin: Actor, citizen: Actor
) -> None:
    for scheme in SCHEMES:
        await client.post("/v1/kitemark-schemes", json=scheme, headers=admin.headers)
    assert_problem(await client.get("/v1/guidelines/current"), 404)
    r = await client.post(
        "/v1/guidelines",
        json={"version": "2026.1", "title": "Guidelines 2026.1", "guidelines": GUIDELINES},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft" and draft["published_at"] is None
    assert [g["code"] for g in draft["guidelines"]] == [g["code"] for g in GUIDELINES]
    # Drafts are invisible to the public and citizens, visible to admins.
    assert_problem(await client.get("/v1/guidelines/2026.1"), 404)
    assert_problem(await client.get("/v1/guidelines/2026.1", headers=citizen.headers), 404)
    assert (await client.get("/v1/guidelines/2026.1", headers=admin.headers)).status_code == 200
    assert (await client.get("/v1/guidelines")).json()["items"] == []
    # A draft can be revised.
    revised = await client.put(
        "/v1/guidelines/2026.1",
        json={"title": "Guidelines 2026.1 (rev)", "guidelines": GUIDELINES[:2]},
        headers=admin.headers,
    )
    assert revised.status_code == 200 and len(revised.json()["guidelines"]) == 2
    r = await client.post("/v1/guidelines/2026.1/publish", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "published" and r.json()["published_at"]
    current = (await client.get("/v1/guidelines/current")).json()
    assert current["version"] == "2026.1" and current["title"] == "Guidelines 2026.1 (rev)"
    # Published versions are immutable.
    assert_problem(await client.post("/v1/guidelines/2026.1/publish", headers=admin.headers), 409)
    r = await client.put(
        "/v1/guidelines/2026.1",
        json={"title": "Sneaky edit", "guidelines": GUIDELINES},
        headers=admin.headers,
    )
    body = assert_problem(r, 409)
    assert body["current_status"] == "published"
    assert (await client.get("/v1/guidelines/2026.1")).json()["title"] == "Guidelines 2026.1 (rev)"
    listed = (await client.get("/v1/guidelines")).json()["items"]
    assert [v["version"] for v in listed] == ["2026.1"]


async def test_newest_published_version_is_current(
    client: httpx.AsyncClient, admin: Actor, published: dict[str, Any]
) -> None:
    r = await client.post(
        "/v1/guidelines",
        json={"version": "2026.2", "title": "Guidelines 2026.2", "guidelines": GUIDELINES},
        headers=admin.headers,
    )
    assert r.status_code == 201
    assert (await client.get("/v1/guidelines/current")).json()["version"] == "2026.1"
    await client.post("/v1/guidelines/2026.2/publish", headers=admin.headers)
    assert (await client.get("/v1/guidelines/current")).json()["version"] == "2026.2"
    assert_problem(
        await client.post(
            "/v1/guidelines",
            json={"version": "2026.2", "title": "Again", "guidelines": GUIDELINES},
            headers=admin.headers,
        ),
        409,
    )


async def test_guideline_validation(client: httpx.AsyncClient, admin: Actor) -> None:
    bad = [
        {**GUIDELINES[0], "code": "priv1"},
        {**GUIDELINES[1], "severity": "fatal"},
        {**GUIDELINES[2], "kitemarks": ["no-such-scheme"]},
    ]
    r = await client.post(
        "/v1/guidelines",
        json={"version": "26", "title": "T", "guidelines": bad},
        headers=admin.headers,
    )
    assert_problem(r, 422, "/version", "/title", "/guidelines/0/code", "/guidelines/1/severity")
    r = await client.post(
        "/v1/guidelines",
        json={"version": "2026.9", "title": "Title", "guidelines": [GUIDELINES[0], GUIDELINES[0]]},
        headers=admin.headers,
    )
    assert_problem(
        r, 422, "/guidelines/0/kitemarks/0", "/guidelines/1/code", "/guidelines/1/kitemarks/0"
    )
    assert_problem(await client.get("/v1/guidelines/2026.9", headers=admin.headers), 404)


async def test_only_admins_write_guidelines(
    client: httpx.AsyncClient, citizen: Actor, provider: Actor, published: dict[str, Any]
) -> None:
    body = {"version": "2027.1", "title": "Mine", "guidelines": GUIDELINES}
    for actor in (citizen, provider):
        assert_problem(await client.post("/v1/guidelines", json=body, headers=actor.headers), 403)
        assert_problem(
            await client.post("/v1/guidelines/2026.1/publish", headers=actor.headers), 403
        )
        assert_problem(await client.post("/v1/scopes", json=SCOPES[0], headers=actor.headers), 403)
        assert_problem(
            await client.post("/v1/kitemark-schemes", json=SCHEMES[0], headers=actor.headers), 403
        )
        assert_problem(
            await client.post(
                "/v1/admin/data-apis",
                json={"name": "API", "data_owner": "HMRC"},
                headers=actor.headers,
            ),
            403,
        )
    assert_problem(await client.post("/v1/guidelines", json=body), 401)


async def test_scopes(client: httpx.AsyncClient, admin: Actor, published: dict[str, Any]) -> None:
    listed = (await client.get("/v1/scopes")).json()["items"]
    assert [s["name"] for s in listed] == sorted(s["name"] for s in SCOPES)
    status = (await client.get("/v1/scopes", params={"tier": "status"})).json()["items"]
    assert [s["name"] for s in status] == ["income.verify"]
    owner = (await client.get("/v1/scopes", params={"data_owner": "NHS England"})).json()["items"]
    assert [s["name"] for s in owner] == ["health.summary.read"]
    assert_problem(await client.post("/v1/scopes", json=SCOPES[0], headers=admin.headers), 409)
    assert_problem(await client.get("/v1/scopes", params={"tier": "secret"}), 400)


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"name": "Income"}, "/name"),
        ({"tier": "everything"}, "/tier"),
        ({"sensitivity": "medium"}, "/sensitivity"),
        ({"data_owner": ""}, "/data_owner"),
    ],
)
async def test_scope_validation(
    client: httpx.AsyncClient, admin: Actor, change: dict[str, str], pointer: str
) -> None:
    r = await client.post("/v1/scopes", json={**SCOPES[0], **change}, headers=admin.headers)
    assert_problem(r, 422, pointer)


async def test_kitemark_schemes(client: httpx.AsyncClient, admin: Actor) -> None:
    r = await client.post("/v1/kitemark-schemes", json=SCHEMES[0], headers=admin.headers)
    assert r.status_code == 201
    assert r.json()["criteria"] == ["PRIV-1", "PRIV-2"]
    assert_problem(
        await client.post("/v1/kitemark-schemes", json=SCHEMES[0], headers=admin.headers), 409
    )
    r = await client.post(
        "/v1/kitemark-schemes",
        json={**SCHEMES[1], "slug": "Bad Slug", "validity_days": 0, "criteria": []},
        headers=admin.headers,
    )
    assert_problem(r, 422, "/slug", "/validity_days", "/criteria")
    r = await client.post(
        "/v1/kitemark-schemes",
        json={**SCHEMES[1], "criteria": ["ACC-1", "nope", "ACC-1"]},
        headers=admin.headers,
    )
    assert_problem(r, 422, "/criteria/1")
    listed = (await client.get("/v1/kitemark-schemes")).json()["items"]
    assert [s["slug"] for s in listed] == ["privacy-assured"]


async def test_data_api_registration(client: httpx.AsyncClient, admin: Actor) -> None:
    r = await client.post(
        "/v1/admin/data-apis",
        json={"name": "HMRC Income API", "data_owner": "HM Revenue & Customs"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"].startswith("dapi_") and created["client_secret"].startswith("gsd_")
    listed = await client.get("/v1/admin/data-apis", headers=admin.headers)
    assert listed.json()["items"][0]["client_id"] == created["client_id"]
    assert listed.json()["items"][0]["client_secret"] is None
    assert created["client_secret"] not in listed.text
    # Stored hashed: the secret is nowhere in the database.
    from marketplace.auth import hash_token
    from marketplace.guidelines.models import DataApi

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.db.session(write=False) as session:
        stored = await session.get(DataApi, created["id"])
    assert stored.client_secret_hash == hash_token(created["client_secret"])
    assert stored.client_secret_hash != created["client_secret"]
