"""The example department API, with httpx.MockTransport standing in for GovStore."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from examples.department_api.app import create_app

GOVSTORE = "http://govstore.test"
CLIENT_ID = "dapi_client"
CLIENT_SECRET = "s3cret-value"
CITIZEN = "acc_citizen"
INCOMES = {CITIZEN: 18_000}

Handler = Callable[[httpx.Request], httpx.Response]


def active(scope: str = "income.verify other.scope", sub: str = CITIZEN) -> dict[str, Any]:
    return {
        "active": True,
        "scope": scope,
        "client_id": "svc_client",
        "sub": sub,
        "exp": 4_102_444_800,
        "iat": 1_700_000_000,
        "iss": GOVSTORE,
        "token_type": "Bearer",
        "service_id": "svc_1",
        "consent_id": "con_1",
        "tiers": {"income.verify": "status"},
    }


class FakeGovStore:
    """Answers introspection with a fixed handler and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Handler = lambda request: httpx.Response(200, json=active())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def form(self, index: int = -1) -> dict[str, list[str]]:
        return parse_qs(self.requests[index].content.decode())


@pytest.fixture
def govstore() -> FakeGovStore:
    return FakeGovStore()


@pytest.fixture
async def dept(govstore: FakeGovStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        govstore_url=GOVSTORE + "/",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        incomes=INCOMES,
        transport=httpx.MockTransport(govstore),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dept.test"
        ) as client,
    ):
        yield client


def bearer(token: str = "tok_abc") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    return body


@pytest.mark.parametrize(
    ("threshold", "below"), [("20000", True), ("18000", False), ("100", False)]
)
async def test_active_token_with_scope_gets_only_yes_or_no(
    dept: httpx.AsyncClient, threshold: str, below: bool
) -> None:
    r = await dept.get("/v1/income-below", params={"threshold": threshold}, headers=bearer())
    assert r.status_code == 200, r.text
    assert r.json() == {"below_threshold": below}
    assert r.headers["cache-control"] == "no-store"


async def test_unknown_citizen_counts_as_no_income(
    dept: httpx.AsyncClient, govstore: FakeGovStore
) -> None:
    govstore.answer = lambda request: httpx.Response(200, json=active(sub="acc_unknown"))
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer())
    assert r.json() == {"below_threshold": True}
    r = await dept.get("/v1/income-below", params={"threshold": "0"}, headers=bearer())
    assert r.json() == {"below_threshold": False}


async def test_introspection_uses_basic_auth_and_forwards_the_case_reference(
    dept: httpx.AsyncClient, govstore: FakeGovStore
) -> None:
    r = await dept.get(
        "/v1/income-below",
        params={"threshold": "20000"},
        headers={**bearer("tok_xyz"), "Case-Reference": "  CASE-2026-0042 "},
    )
    assert r.status_code == 200, r.text
    [request] = govstore.requests
    assert request.method == "POST"
    assert str(request.url) == GOVSTORE + "/oauth/introspect"
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert govstore.form() == {"token": ["tok_xyz"], "case_reference": ["CASE-2026-0042"]}


async def test_no_case_reference_is_sent_when_none_is_given(
    dept: httpx.AsyncClient, govstore: FakeGovStore
) -> None:
    await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer("tok_1"))
    await dept.get(
        "/v1/income-below",
        params={"threshold": "1"},
        headers={**bearer("tok_2"), "Case-Reference": "   "},
    )
    assert govstore.form(0) == {"token": ["tok_1"]}
    assert govstore.form(1) == {"token": ["tok_2"]}


async def test_inactive_token_is_401_with_a_bearer_challenge(
    dept: httpx.AsyncClient, govstore: FakeGovStore
) -> None:
    govstore.answer = lambda request: httpx.Response(200, json={"active": False})
    r = await dept.get("/v1/income-below", params={"threshold": "20000"}, headers=bearer())
    body = assert_problem(r, 401)
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "below_threshold" not in body


async def test_token_without_the_income_scope_is_403(
    dept: httpx.AsyncClient, govstore: FakeGovStore
) -> None:
    govstore.answer = lambda request: httpx.Response(
        200, json=active(scope="other.scope income.verify.extra")
    )
    r = await dept.get("/v1/income-below", params={"threshold": "20000"}, headers=bearer())
    body = assert_problem(r, 403)
    assert body["type"].endswith("insufficient-scope")
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"threshold": ""},
        {"threshold": "abc"},
        {"threshold": "-5"},
        {"threshold": "1.5"},
        {"threshold": "1" * 13},
    ],
)
async def test_bad_threshold_is_400_and_leaves_no_access_log_entry(
    dept: httpx.AsyncClient, govstore: FakeGovStore, params: dict[str, str]
) -> None:
    r = await dept.get(
        "/v1/income-below", params=params, headers={**bearer(), "Case-Reference": "CASE-1"}
    )
    assert_problem(r, 400)
    assert govstore.requests == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_govstore_server_error_is_503(
    dept: httpx.AsyncClient, govstore: FakeGovStore, status: int
) -> None:
    govstore.answer = lambda request: httpx.Response(status, text="oops")
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer())
    assert_problem(r, 503)


async def test_govstore_unreachable_is_503(dept: httpx.AsyncClient, govstore: FakeGovStore) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    govstore.answer = refuse
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer())
    assert_problem(r, 503)


async def test_govstore_timeout_is_503(dept: httpx.AsyncClient, govstore: FakeGovStore) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    govstore.answer = slow
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer())
    assert_problem(r, 503)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"scope": "income.verify"}),
        httpx.Response(200, json={"active": True, "scope": "income.verify"}),
    ],
    ids=["own-credentials-rejected", "not-json", "no-active", "active-without-sub"],
)
async def test_unusable_govstore_answer_is_503(
    dept: httpx.AsyncClient, govstore: FakeGovStore, answer: httpx.Response
) -> None:
    govstore.answer = lambda request: answer
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=bearer())
    body = assert_problem(r, 503)
    assert CLIENT_SECRET not in body["detail"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}]
)
async def test_missing_bearer_is_401_without_asking_govstore(
    dept: httpx.AsyncClient, govstore: FakeGovStore, headers: dict[str, str]
) -> None:
    r = await dept.get("/v1/income-below", params={"threshold": "1"}, headers=headers)
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert govstore.requests == []
