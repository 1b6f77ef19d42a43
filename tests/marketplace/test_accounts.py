"""Accounts: registration, sign-in and throttling, API tokens, roles."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from testkit import PASSWORD, Actor, assert_problem


async def test_register_and_read_account(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/accounts",
        json={
            "email": " Ada@Example.org ",
            "password": PASSWORD,
            "display_name": "Ada",
            "role": "provider",
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert body["email"] == "ada@example.org"
    assert body["roles"] == ["provider"]
    assert body["id"].startswith("acc_")
    assert "password" not in r.text and "hash" not in r.text
    login = await client.post(
        "/v1/auth/login", json={"email": "ADA@example.org", "password": PASSWORD}
    )
    assert login.status_code == 200
    token = login.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    me = await client.get(
        "/v1/account", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "pointers"),
    [
        (
            {"email": "not-an-email", "password": PASSWORD, "display_name": "A", "role": "citizen"},
            ["/email"],
        ),
        (
            {"email": "a@b.example", "password": "short", "display_name": "A", "role": "citizen"},
            ["/password"],
        ),
        (
            {
                "email": "a@b.example",
                "password": "aaaaaaaaaaaaaaaa",
                "display_name": "A",
                "role": "citizen",
            },
            ["/password"],
        ),
        (
            {"email": "a@b.example", "password": PASSWORD, "display_name": "A", "role": "admin"},
            ["/role"],
        ),
        (
            {"email": "a@b.example", "password": PASSWORD, "role": "citizen", "extra": 1},
            ["/display_name", "/extra"],
        ),
    ],
)
async def test_registration_validation(
    client: httpx.AsyncClient, payload: dict[str, object], pointers: list[str]
) -> None:
    r = await client.post("/v1/accounts", json=payload)
    assert_problem(r, 422, *pointers)
    listed = await client.post(
        "/v1/auth/login", json={"email": "a@b.example", "password": PASSWORD}
    )
    assert listed.status_code == 401  # nothing was created


async def test_duplicate_email_is_409(client: httpx.AsyncClient, citizen: Actor) -> None:
    r = await client.post(
        "/v1/accounts",
        json={
            "email": citizen.email.upper(),
            "password": PASSWORD,
            "display_name": "X",
            "role": "citizen",
        },
    )
    assert_problem(r, 409)


async def test_concurrent_registration_has_one_winner(client: httpx.AsyncClient) -> None:
    payload = {
        "email": "race@test.example",
        "password": PASSWORD,
        "display_name": "R",
        "role": "citizen",
    }
    results = await asyncio.gather(*[client.post("/v1/accounts", json=payload) for _ in range(4)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409]


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, citizen: Actor
) -> None:
    wrong = await client.post("/v1/auth/login", json={"email": citizen.email, "password": "x" * 14})
    unknown = await client.post(
        "/v1/auth/login", json={"email": "nobody@test.example", "password": "x" * 14}
    )
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_login_throttled_after_repeated_failures(
    client: httpx.AsyncClient, citizen: Actor
) -> None:
    for _ in range(5):
        r = await client.post(
            "/v1/auth/login", json={"email": citizen.email, "password": "wrong-password!"}
        )
        assert r.status_code == 401
    r = await client.post("/v1/auth/login", json={"email": citizen.email, "password": PASSWORD})
    body = assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) > 0
    assert "sign-in" in body["detail"]


async def test_missing_and_bad_tokens_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/account"), 401)
    r = await client.get("/v1/account", headers={"Authorization": "Bearer gst_nope"})
    assert_problem(r, 401)
    r = await client.get("/v1/account", headers={"Authorization": "Basic abc"})
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_logout_revokes_session(client: httpx.AsyncClient, citizen: Actor) -> None:
    assert (await client.post("/v1/auth/logout", headers=citizen.headers)).status_code == 204
    assert_problem(await client.get("/v1/account", headers=citizen.headers), 401)


async def test_api_token_lifecycle(client: httpx.AsyncClient, provider: Actor) -> None:
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "CI", "expires_in_days": 30, "scopes": ["read", "services:write"]},
        headers=provider.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["token"]
    assert secret.startswith("gst_") and created["prefix"] == secret[:12]
    listed = await client.get("/v1/account/api-tokens", headers=provider.headers)
    assert [t["id"] for t in listed.json()["items"]] == [created["id"]]
    assert listed.json()["items"][0]["token"] is None
    assert secret not in listed.text
    api = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/v1/account", headers=api)).status_code == 200
    # An API token cannot mint more tokens, nor act beyond its scopes.
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "x", "expires_in_days": 1, "scopes": ["read"]},
        headers=api,
    )
    assert_problem(r, 403)
    r = await client.post(
        "/v1/organisations", json={"name": "Org", "contact_email": "o@o.example"}, headers=api
    )
    assert_problem(r, 403)
    assert (
        await client.delete(f"/v1/account/api-tokens/{created['id']}", headers=provider.headers)
    ).status_code == 204
    assert_problem(await client.get("/v1/account", headers=api), 401)


async def test_api_token_rules(client: httpx.AsyncClient, citizen: Actor, provider: Actor) -> None:
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "x", "expires_in_days": 30, "scopes": ["admin:write"]},
        headers=citizen.headers,
    )
    assert_problem(r, 422, "/scopes/0")
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "x", "expires_in_days": 9999, "scopes": ["read"]},
        headers=citizen.headers,
    )
    assert_problem(r, 422, "/expires_in_days")
    r = await client.post(
        "/v1/account/api-tokens",
        json={"name": "x", "expires_in_days": 3, "scopes": ["read"]},
        headers=provider.headers,
    )
    # Someone else's token id is invisible.
    assert_problem(
        await client.delete(f"/v1/account/api-tokens/{r.json()['id']}", headers=citizen.headers),
        404,
    )


async def test_admin_sets_roles(
    client: httpx.AsyncClient, admin: Actor, citizen: Actor, provider: Actor
) -> None:
    r = await client.post(
        f"/v1/admin/accounts/{provider.id}/roles",
        json={"roles": ["reviewer"]},
        headers=admin.headers,
    )
    assert r.status_code == 200
    assert r.json()["roles"] == ["provider", "reviewer"]
    listed = await client.get("/v1/admin/accounts?role=reviewer", headers=admin.headers)
    assert [a["id"] for a in listed.json()["items"]] == [provider.id]
    r = await client.post(
        f"/v1/admin/accounts/{provider.id}/roles", json={"roles": []}, headers=admin.headers
    )
    assert r.json()["roles"] == ["provider"]
    # Who may not.
    r = await client.post(
        f"/v1/admin/accounts/{citizen.id}/roles",
        json={"roles": ["admin"]},
        headers=citizen.headers,
    )
    assert_problem(r, 403)
    assert_problem(await client.get("/v1/admin/accounts", headers=citizen.headers), 403)
    # Validation and safety.
    r = await client.post(
        f"/v1/admin/accounts/{citizen.id}/roles",
        json={"roles": ["citizen"]},
        headers=admin.headers,
    )
    assert_problem(r, 422, "/roles/0")
    r = await client.post(
        f"/v1/admin/accounts/{admin.id}/roles",
        json={"roles": ["reviewer"]},
        headers=admin.headers,
    )
    assert_problem(r, 409)
    r = await client.post(
        "/v1/admin/accounts/acc_missing/roles", json={"roles": []}, headers=admin.headers
    )
    assert_problem(r, 404)
