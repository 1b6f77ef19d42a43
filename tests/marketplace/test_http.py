"""HTTP conventions: problem documents, body limits, content types, idempotency, pagination, limits."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from starlette.applications import Starlette
from testkit import PASSWORD, Actor, AppFactory, assert_problem, client_for


async def test_unknown_path_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/nothing-here"), 404)
    assert body["code"] == "not-found"
    assert_problem(await client.delete("/v1/accounts"), 405)


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/accounts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 400)
    r = await client.post("/v1/accounts", content=b"", headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    r = await client.post(
        "/v1/accounts", content=b"\xff\xfe", headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 400)


async def test_non_object_body_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/v1/accounts", json=[1, 2]), 422, "")


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/accounts", content=b"email=a", headers={"Content-Type": "text/plain"}
    )
    assert_problem(r, 415)


async def test_body_over_limit_is_413(make_app: AppFactory) -> None:
    app = await make_app(max_body_bytes=2048)
    async with client_for(app) as client:
        big = {
            "email": "a@b.example",
            "password": "x" * 4000,
            "display_name": "A",
            "role": "citizen",
        }
        assert_problem(await client.post("/v1/accounts", json=big), 413)

        async def chunks():  # no Content-Length: the limit holds for streamed bodies too
            for _ in range(10):
                yield b" " * 1000

        r = await client.post(
            "/v1/accounts", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_problem(r, 413)


async def test_every_validation_error_has_a_pointer(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/accounts", json={"email": 5, "role": "x", "bogus": True})
    body = assert_problem(r, 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"/email", "/password", "/display_name", "/role", "/bogus"}


async def test_unexpected_exception_is_a_500_problem_without_trace(
    app: Starlette,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from marketplace.accounts import services

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "register", explode)
    r = await client.post(
        "/v1/accounts",
        json={"email": "a@b.example", "password": PASSWORD, "display_name": "A", "role": "citizen"},
    )
    body = assert_problem(r, 500)
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert body["code"] == "internal-error"


async def test_idempotency_key_replays_first_response(
    client: httpx.AsyncClient, provider: Actor
) -> None:
    payload = {"name": "Acme", "contact_email": "a@acme.example"}
    headers = {**provider.headers, "Idempotency-Key": "create-acme-1"}
    first = await client.post("/v1/organisations", json=payload, headers=headers)
    second = await client.post("/v1/organisations", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotency-Replayed"] == "true"
    listed = await client.get("/v1/organisations", headers=provider.headers)
    assert len(listed.json()["items"]) == 1
    # Same key, different request: refused, nothing created.
    r = await client.post("/v1/organisations", json={**payload, "name": "Other"}, headers=headers)
    assert_problem(r, 422)
    assert (
        len((await client.get("/v1/organisations", headers=provider.headers)).json()["items"]) == 1
    )


async def test_idempotency_key_races_create_once(
    client: httpx.AsyncClient, provider: Actor
) -> None:
    payload = {"name": "Racer", "contact_email": "r@acme.example"}
    headers = {**provider.headers, "Idempotency-Key": "race-key"}
    results = await asyncio.gather(
        *[client.post("/v1/organisations", json=payload, headers=headers) for _ in range(3)]
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1


async def test_idempotency_keys_are_per_caller(client: httpx.AsyncClient, sign_up: object) -> None:
    a = await sign_up("provider")  # type: ignore[operator]
    b = await sign_up("provider")  # type: ignore[operator]
    payload = {"name": "Same", "contact_email": "s@acme.example"}
    ra = await client.post(
        "/v1/organisations", json=payload, headers={**a.headers, "Idempotency-Key": "k"}
    )
    rb = await client.post(
        "/v1/organisations", json=payload, headers={**b.headers, "Idempotency-Key": "k"}
    )
    assert ra.json()["id"] != rb.json()["id"]


async def test_bad_idempotency_key_is_400(client: httpx.AsyncClient, provider: Actor) -> None:
    r = await client.post(
        "/v1/organisations",
        json={"name": "Acme", "contact_email": "a@a.example"},
        headers={**provider.headers, "Idempotency-Key": "x" * 300},
    )
    assert_problem(r, 400)


async def test_cursor_pagination(client: httpx.AsyncClient, provider: Actor) -> None:
    for i in range(5):
        r = await client.post(
            "/v1/account/api-tokens",
            json={"name": f"t{i}", "expires_in_days": 5, "scopes": ["read"]},
            headers=provider.headers,
        )
        assert r.status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get("/v1/account/api-tokens", params=params, headers=provider.headers)
        ).json()
        seen += [t["name"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"t{i}" for i in range(5)]
    assert pages == 3


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"cursor": "!!notacursor"},
        {"cursor": "WzFd"},
    ],
)
async def test_bad_paging_parameters_are_400(
    client: httpx.AsyncClient, provider: Actor, params: dict[str, object]
) -> None:
    r = await client.get("/v1/account/api-tokens", params=params, headers=provider.headers)
    body = assert_problem(r, 400)
    assert body["errors"][0]["parameter"] in {"limit", "cursor"}


async def test_rate_limit_per_address(make_app: AppFactory) -> None:
    app = await make_app(rate_limit_per_address=3, rate_limit_window_seconds=60)
    async with client_for(app, "10.0.0.7") as client:
        codes = [(await client.get("/v1/scopes")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = await client.get("/v1/scopes")
        assert_problem(r, 429)
        assert 0 < int(r.headers["Retry-After"]) <= 60
        assert (await client.get("/healthz")).status_code == 200  # probes are exempt
    async with client_for(app, "10.0.0.8") as other:
        assert (await other.get("/v1/scopes")).status_code == 200


async def test_rate_limit_per_token(make_app: AppFactory, settings: object) -> None:
    app = await make_app(rate_limit_per_token=2)
    async with client_for(app) as client:
        r = await client.post(
            "/v1/accounts",
            json={
                "email": "t@t.example",
                "password": PASSWORD,
                "display_name": "T",
                "role": "citizen",
            },
        )
        token = (
            await client.post("/v1/auth/login", json={"email": "t@t.example", "password": PASSWORD})
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        codes = [(await client.get("/v1/account", headers=headers)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert (await client.get("/v1/scopes")).status_code == 200  # anonymous still served
        assert r.status_code == 201


async def test_security_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


async def test_problem_type_is_stable_uri(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/account")).json()
    assert body["type"].endswith("/problems/unauthenticated")
    json.dumps(body)
