"""Organisations and membership: who may see and change them."""

from __future__ import annotations

import httpx
from testkit import Actor, SignUp, assert_problem


async def test_create_and_read(client: httpx.AsyncClient, provider: Actor) -> None:
    r = await client.post(
        "/v1/organisations",
        json={
            "name": "Kestrel Health",
            "contact_email": "Team@Kestrel.example",
            "company_number": "sc123456",
        },
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["id"].startswith("org_")
    assert org["company_number"] == "SC123456"
    assert org["contact_email"] == "team@kestrel.example"
    assert [(m["account_id"], m["role"]) for m in org["members"]] == [(provider.id, "owner")]
    assert (
        await client.get(f"/v1/organisations/{org['id']}", headers=provider.headers)
    ).json() == org
    listed = (await client.get("/v1/organisations", headers=provider.headers)).json()
    assert [(o["id"], o["role"]) for o in listed["items"]] == [(org["id"], "owner")]


async def test_validation(client: httpx.AsyncClient, provider: Actor) -> None:
    r = await client.post(
        "/v1/organisations",
        json={"name": "X", "contact_email": "nope", "company_number": "12"},
        headers=provider.headers,
    )
    assert_problem(r, 422, "/name")
    r = await client.post(
        "/v1/organisations",
        json={"name": "Good Name", "contact_email": "nope", "company_number": "12"},
        headers=provider.headers,
    )
    assert_problem(r, 422, "/contact_email", "/company_number")


async def test_citizens_cannot_create(client: httpx.AsyncClient, citizen: Actor) -> None:
    r = await client.post(
        "/v1/organisations",
        json={"name": "Mine", "contact_email": "m@m.example"},
        headers=citizen.headers,
    )
    assert_problem(r, 403)
    assert_problem(
        await client.post(
            "/v1/organisations", json={"name": "Mine", "contact_email": "m@m.example"}
        ),
        401,
    )


async def test_non_members_get_404(
    client: httpx.AsyncClient, organisation: dict[str, object], sign_up: SignUp, admin: Actor
) -> None:
    outsider = await sign_up("provider")
    for actor in (outsider, admin):
        assert_problem(
            await client.get(f"/v1/organisations/{organisation['id']}", headers=actor.headers), 404
        )
        r = await client.post(
            f"/v1/organisations/{organisation['id']}/members",
            json={"email": actor.email, "role": "developer"},
            headers=actor.headers,
        )
        assert_problem(r, 404)
    assert_problem(await client.get("/v1/organisations/org_nope", headers=outsider.headers), 404)


async def test_members(
    client: httpx.AsyncClient, provider: Actor, organisation: dict[str, object], sign_up: SignUp
) -> None:
    dev = await sign_up("provider", name="dev")
    citizen = await sign_up("citizen")
    url = f"/v1/organisations/{organisation['id']}/members"
    r = await client.post(
        url, json={"email": dev.email, "role": "developer"}, headers=provider.headers
    )
    assert r.status_code == 201, r.text
    assert {m["email"]: m["role"] for m in r.json()["members"]} == {
        provider.email: "owner",
        dev.email: "developer",
    }
    # The developer now sees it, but cannot add members.
    assert (
        await client.get(f"/v1/organisations/{organisation['id']}", headers=dev.headers)
    ).status_code == 200
    other = await sign_up("provider")
    r = await client.post(
        url, json={"email": other.email, "role": "developer"}, headers=dev.headers
    )
    assert_problem(r, 403)
    assert_problem(
        await client.post(
            url, json={"email": dev.email, "role": "owner"}, headers=provider.headers
        ),
        409,
    )
    assert_problem(
        await client.post(
            url, json={"email": "ghost@test.example", "role": "owner"}, headers=provider.headers
        ),
        422,
        "/email",
    )
    assert_problem(
        await client.post(
            url, json={"email": citizen.email, "role": "developer"}, headers=provider.headers
        ),
        422,
        "/email",
    )
    assert_problem(
        await client.post(
            url, json={"email": other.email, "role": "boss"}, headers=provider.headers
        ),
        422,
        "/role",
    )
