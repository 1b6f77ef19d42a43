"""Liveness, readiness, metrics, the OpenAPI document and /docs."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from testkit import AppFactory, client_for

from marketplace.app import all_operations
from marketplace.openapi import build_openapi, render

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_checks_dependencies(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["queue"] in {"ok", "in-process"}


async def test_readyz_reports_unreachable_database(make_app: AppFactory) -> None:
    app = await make_app(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with client_for(app) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["checks"]["database"] == "unreachable"


async def test_readyz_reports_unreachable_queue(make_app: AppFactory) -> None:
    app = await make_app(redis_url="redis://127.0.0.1:1/0")
    async with client_for(app) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["queue"] == "unreachable"


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/v1/scopes")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'govstore_http_requests_total{method="GET",route="/v1/scopes",status="200"}' in r.text


async def test_metrics_count_the_oauth_endpoints(client: httpx.AsyncClient) -> None:
    # The figures are the process's: other tests may have counted some already.
    line = 'govstore_http_requests_total{method="POST",route="/oauth/introspect",status="401"}'

    async def count() -> float:
        found = re.search(re.escape(line) + r" (\S+)", (await client.get("/metrics")).text)
        return float(found.group(1)) if found else 0.0

    before = await count()
    r = await client.post("/oauth/introspect", data={"token": "anything"})
    assert r.status_code == 401  # no data API credentials
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert r.status_code in (400, 401)
    assert await count() == before + 1
    after = (await client.get("/metrics")).text
    assert f'route="/oauth/token",status="{r.status_code}"' in after
    assert (
        'govstore_http_request_duration_seconds_count{method="POST",route="/oauth/introspect"}'
        in after
    )


async def test_openapi_served_matches_code(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == build_openapi(all_operations())
    assert served["openapi"].startswith("3.1")


def test_committed_openapi_is_fresh() -> None:
    committed = (ROOT / "openapi" / "openapi.json").read_text()
    assert committed == render(build_openapi(all_operations())), (
        "openapi/openapi.json is stale: run `marketplace openapi` and commit it"
    )


def test_openapi_is_valid_3_1() -> None:
    from openapi_spec_validator import validate

    validate(json.loads((ROOT / "openapi" / "openapi.json").read_text()))


def test_every_api_path_is_documented() -> None:
    paths = build_openapi(all_operations())["paths"]
    for expected in [
        "/v1/accounts",
        "/v1/auth/login",
        "/v1/account",
        "/v1/account/api-tokens",
        "/v1/account/api-tokens/{token_id}",
        "/v1/admin/accounts/{account_id}/roles",
        "/v1/admin/data-apis",
        "/v1/guidelines",
        "/v1/guidelines/{version}/publish",
        "/v1/guidelines/current",
        "/v1/guidelines/{version}",
        "/v1/schemas/service-manifest",
        "/v1/scopes",
        "/v1/kitemark-schemes",
        "/v1/organisations",
        "/v1/organisations/{org_id}",
        "/v1/organisations/{org_id}/members",
        "/v1/organisations/{org_id}/services",
        "/v1/services/{service_id}",
        "/v1/services/{service_id}/releases",
        "/v1/services/{service_id}/releases/{release_id}",
        "/v1/services/{service_id}/releases/{release_id}/withdraw",
    ]:
        assert expected in paths, expected


@pytest.mark.parametrize("operation", all_operations(), ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_is_described(operation: object) -> None:
    assert operation.summary  # type: ignore[attr-defined]
    assert operation.description, "write a docstring: it becomes the OpenAPI description"  # type: ignore[attr-defined]


async def test_docs_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    assert "<script" not in r.text
    assert "/v1/services/{service_id}/releases" in r.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/accounts", "application/json"),  # the API
        ("/oauth/token", "application/x-www-form-urlencoded"),  # the OAuth endpoints
        ("/register", "application/x-www-form-urlencoded"),  # a web form
    ],
)
async def test_a_client_that_hangs_up_mid_request_is_not_a_server_error(
    app: Starlette, path: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The body promised 100 bytes, 10 came, then the connection closed (load testers stopping
    and impatient clients do this): no 500, no error logged; the metrics say 499."""
    arrivals = [
        {"type": "http.request", "body": b'{"email": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return arrivals.pop(0) if arrivals else {"type": "http.disconnect"}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", content_type.encode()), (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    with caplog.at_level(logging.WARNING):
        await app(scope, receive, send)  # type: ignore[arg-type]
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [499]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
