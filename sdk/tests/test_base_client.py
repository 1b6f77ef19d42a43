from __future__ import annotations

import email.utils
import json
import time
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

import govstore
from govstore._base_client import RetryPolicy
from govstore._request import RequestSpec, parse_nothing

from .support import BASE_URL, MockServer, problem

ACCOUNT = {
    "id": "acc_1",
    "email": "a@example.test",
    "display_name": "A",
    "roles": [],
    "created_at": "2026-01-02T03:04:05Z",
}
WITHDRAWN = {
    "id": "rel_1",
    "service_id": "svc_1",
    "number": 1,
    "status": "withdrawn",
    "guideline_version": "2026.1",
    "created_at": "2026-01-02T03:04:05Z",
    "status_changed_at": "2026-01-02T03:04:05Z",
}
ORGANISATION = {
    "id": "org_1",
    "name": "Acme",
    "contact_email": "hello@acme.test",
    "members": [],
    "created_at": "2026-01-02T03:04:05Z",
}


def client_for(server: MockServer, **options: Any) -> govstore.Client:
    return govstore.Client(base_url=BASE_URL, transport=server.transport, **options)


def async_client_for(server: MockServer, **options: Any) -> govstore.AsyncClient:
    return govstore.AsyncClient(base_url=BASE_URL, transport=server.transport, **options)


# Configuration


def test_defaults_without_environment() -> None:
    with govstore.Client() as client:
        assert client.base_url == "http://127.0.0.1:8000"
        assert client.token is None
        assert client.retry_policy.max_retries == 2
        assert client._http.timeout == httpx.Timeout(10.0)


def test_environment_configures_base_url_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSTORE_BASE_URL", "https://govstore.example/")
    monkeypatch.setenv("GOVSTORE_TOKEN", "gst_from_env")
    server = MockServer(httpx.Response(200, json=ACCOUNT))

    with govstore.Client(transport=server.transport) as client:
        client.account.get()

    assert str(server.last.url) == "https://govstore.example/v1/account"
    assert server.last.headers["Authorization"] == "Bearer gst_from_env"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSTORE_BASE_URL", "https://govstore.example")
    monkeypatch.setenv("GOVSTORE_TOKEN", "gst_from_env")

    with govstore.Client(base_url="http://other.test", token="gst_argument") as client:
        assert (client.base_url, client.token) == ("http://other.test", "gst_argument")


def test_base_url_keeps_a_path_prefix() -> None:
    server = MockServer(httpx.Response(200, json=ACCOUNT))

    with govstore.Client(base_url="https://gw.test/govstore/", transport=server.transport) as c:
        c.account.get()

    assert str(server.last.url) == "https://gw.test/govstore/v1/account"


def test_timeout_is_configurable() -> None:
    with govstore.Client(timeout=2.5) as client:
        assert client._http.timeout == httpx.Timeout(2.5)


def test_every_request_says_who_is_calling() -> None:
    server = MockServer(httpx.Response(200, json=ACCOUNT))

    with client_for(server) as client:
        client.account.get()

    assert server.last.headers["User-Agent"] == f"govstore-python/{govstore.__version__}"
    assert server.last.headers["Accept"] == "application/json"
    assert "Authorization" not in server.last.headers


def test_an_injected_http_client_is_used_and_left_open() -> None:
    server = MockServer(httpx.Response(200, json=ACCOUNT))
    http = httpx.Client(transport=server.transport, base_url="http://injected.test")

    with govstore.Client(http_client=http, token="t") as client:
        client.account.get()

    assert str(server.last.url) == "http://injected.test/v1/account"
    assert not http.is_closed
    http.close()


def test_http_client_and_transport_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        govstore.Client(
            http_client=httpx.Client(), transport=httpx.MockTransport(lambda r: httpx.Response(200))
        )


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        govstore.Client(max_retries=-1)


def test_login_keeps_the_token_for_later_calls() -> None:
    login = {"access_token": "tok_123", "token_type": "Bearer", "expires_in": 3600}
    server = MockServer(httpx.Response(200, json=login), httpx.Response(200, json=ACCOUNT))

    with client_for(server) as client:
        result = client.auth.login("a@example.test", "secret")
        client.account.get()

    assert result.access_token == "tok_123"
    assert client.token == "tok_123"
    assert "Authorization" not in server.requests[0].headers
    assert server.requests[1].headers["Authorization"] == "Bearer tok_123"


async def test_async_login_keeps_the_token() -> None:
    login = {"access_token": "tok_456", "token_type": "Bearer", "expires_in": 3600}
    server = MockServer(httpx.Response(200, json=login), httpx.Response(200, json=ACCOUNT))

    async with async_client_for(server) as client:
        await client.auth.login("a@example.test", "secret")
        await client.account.get()

    assert server.requests[1].headers["Authorization"] == "Bearer tok_456"


# Retries


@pytest.mark.parametrize("status", [429, 503])
def test_retries_honour_retry_after_seconds(status: int, sleeps: list[float]) -> None:
    server = MockServer(
        problem(status, "Busy", retry_after=3), httpx.Response(200, json=ORGANISATION)
    )

    with client_for(server) as client:
        organisation = client.organisations.get("org_1")

    assert organisation.id == "org_1"
    assert len(server.requests) == 2
    assert sleeps == [3.0]


def test_retries_honour_retry_after_as_an_http_date(sleeps: list[float]) -> None:
    in_five_seconds = email.utils.formatdate(time.time() + 5, usegmt=True)
    server = MockServer(
        problem(429, "Busy", retry_after=in_five_seconds), httpx.Response(200, json=ORGANISATION)
    )

    with client_for(server) as client:
        client.organisations.get("org_1")

    assert len(sleeps) == 1
    assert 3 <= sleeps[0] <= 5


def test_without_retry_after_back_off_grows_with_jitter(sleeps: list[float]) -> None:
    server = MockServer(
        problem(503, "Unavailable"),
        problem(503, "Unavailable"),
        problem(503, "Unavailable"),
        httpx.Response(200, json=ORGANISATION),
    )

    with client_for(server, max_retries=3) as client:
        client.organisations.get("org_1")

    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= delay <= ceiling


def test_gives_up_after_max_retries(sleeps: list[float]) -> None:
    server = MockServer(*[problem(429, "Too many requests", retry_after=1) for _ in range(3)])

    with client_for(server) as client, pytest.raises(govstore.RateLimitError) as raised:
        client.organisations.get("org_1")

    assert len(server.requests) == 3
    assert sleeps == [1.0, 1.0]
    assert raised.value.retry_after == 1.0


def test_max_retries_zero_never_retries(sleeps: list[float]) -> None:
    server = MockServer(problem(503, "Unavailable"))

    with client_for(server, max_retries=0) as client, pytest.raises(govstore.ServerError):
        client.organisations.get("org_1")

    assert sleeps == []


def test_a_retry_after_too_long_to_wait_raises_at_once(sleeps: list[float]) -> None:
    server = MockServer(problem(429, "Too many requests", retry_after=3600))

    with client_for(server) as client, pytest.raises(govstore.RateLimitError) as raised:
        client.organisations.get("org_1")

    assert sleeps == []
    assert raised.value.retry_after == 3600


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500, 502])
def test_other_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    server = MockServer(problem(status, "No"))

    with client_for(server) as client, pytest.raises(govstore.APIStatusError):
        client.organisations.get("org_1")

    assert len(server.requests) == 1


async def test_async_retries_and_gives_up(sleeps: list[float]) -> None:
    server = MockServer(
        problem(503, "Unavailable", retry_after=2),
        problem(429, "Busy", retry_after=1),
        problem(429, "Busy", retry_after=1),
    )

    async with async_client_for(server) as client:
        with pytest.raises(govstore.RateLimitError):
            await client.organisations.get("org_1")

    assert sleeps == [2.0, 1.0]
    assert len(server.requests) == 3


def test_connection_errors_are_retried_for_idempotent_requests(sleeps: list[float]) -> None:
    server = MockServer(httpx.ReadError("connection reset"), httpx.Response(200, json=ORGANISATION))

    with client_for(server) as client:
        client.organisations.get("org_1")

    assert len(server.requests) == 2
    assert len(sleeps) == 1


def test_connection_errors_are_not_retried_for_other_posts(sleeps: list[float]) -> None:
    server = MockServer(httpx.ReadError("connection reset"))

    with client_for(server) as client, pytest.raises(govstore.APIConnectionError):
        client.releases.withdraw("svc_1", "rel_1")

    assert len(server.requests) == 1
    assert sleeps == []


def test_a_refused_connection_is_retried_even_for_other_posts(sleeps: list[float]) -> None:
    server = MockServer(
        httpx.ConnectError("refused"),
        httpx.Response(200, json=WITHDRAWN),
    )

    with client_for(server) as client:
        release = client.releases.withdraw("svc_1", "rel_1")

    assert release.status == govstore.ReleaseStatus.WITHDRAWN
    assert len(sleeps) == 1


def test_connection_errors_give_up_after_max_retries(sleeps: list[float]) -> None:
    server = MockServer(*[httpx.ConnectError("refused") for _ in range(3)])

    with client_for(server) as client, pytest.raises(govstore.APIConnectionError) as raised:
        client.account.get()

    assert len(server.requests) == 3
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert raised.value.request is not None


async def test_timeouts_raise_api_timeout_error(sleeps: list[float]) -> None:
    server = MockServer(*[httpx.ReadTimeout("slow") for _ in range(3)])

    async with async_client_for(server) as client:
        with pytest.raises(govstore.APITimeoutError):
            await client.account.get()

    assert len(server.requests) == 3


def test_retry_policy_caps_the_back_off() -> None:
    policy = RetryPolicy(max_retries=20)

    assert all(policy.backoff(attempt) <= policy.max_delay for attempt in range(20))


# Idempotency keys


def test_creating_posts_carry_an_idempotency_key_kept_across_retries(
    sleeps: list[float],
) -> None:
    server = MockServer(
        problem(503, "Unavailable", retry_after=1),
        httpx.ReadError("connection reset"),
        httpx.Response(201, json=ORGANISATION),
    )

    with client_for(server) as client:
        client.organisations.create("Acme", "hello@acme.test")

    keys = [request.headers.get("Idempotency-Key") for request in server.requests]
    assert len(keys) == 3
    assert keys[0] is not None
    assert len(set(keys)) == 1


def test_each_create_call_gets_its_own_key() -> None:
    server = MockServer(
        httpx.Response(201, json=ORGANISATION), httpx.Response(201, json=ORGANISATION)
    )

    with client_for(server) as client:
        client.organisations.create("Acme", "hello@acme.test")
        client.organisations.create("Acme", "hello@acme.test")

    first, second = (request.headers["Idempotency-Key"] for request in server.requests)
    assert first != second


async def test_async_creating_posts_keep_their_key_across_retries(sleeps: list[float]) -> None:
    server = MockServer(problem(429, "Busy", retry_after=1), httpx.Response(201, json=ORGANISATION))

    async with async_client_for(server) as client:
        await client.organisations.create("Acme", "hello@acme.test")

    first, second = (request.headers["Idempotency-Key"] for request in server.requests)
    assert first == second


def test_reads_and_state_changes_carry_no_idempotency_key() -> None:
    server = MockServer(httpx.Response(200, json=ORGANISATION), httpx.Response(200, json=WITHDRAWN))

    with client_for(server) as client:
        client.organisations.get("org_1")
        client.releases.withdraw("svc_1", "rel_1")

    assert all("Idempotency-Key" not in request.headers for request in server.requests)


async def test_an_asgi_app_can_be_called_in_process() -> None:
    seen: list[MutableMapping[str, Any]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)
        body = json.dumps(ACCOUNT).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    transport = httpx.ASGITransport(app=app)
    async with govstore.AsyncClient(base_url="http://app.test", transport=transport) as client:
        account = await client.account.get()

    assert account.id == "acc_1"
    assert seen[0]["path"] == "/v1/account"


# Conditional requests


def _tagged(body: dict[str, Any], etag: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers={"ETag": etag, **headers})


def test_a_read_with_an_etag_is_revalidated_and_a_304_answered_from_memory() -> None:
    renamed = {**ACCOUNT, "display_name": "B"}
    server = MockServer(
        _tagged(ACCOUNT, '"v1"'),
        httpx.Response(304, headers={"ETag": '"v1"'}),
        _tagged(renamed, '"v2"'),
        httpx.Response(304, headers={"ETag": '"v2"'}),
    )
    with client_for(server) as client:
        first = client.account.get()
        assert "If-None-Match" not in server.last.headers
        assert client.account.get() == first  # the server sent no body
        assert client.revalidation.hits == 1
        assert server.last.headers["If-None-Match"] == '"v1"'
        assert client.account.get().display_name == "B"  # changed: the new answer is kept
        assert client.account.get().display_name == "B"
        assert server.last.headers["If-None-Match"] == '"v2"'


def test_answers_are_kept_per_credentials_and_never_when_the_server_says_no_store() -> None:
    server = MockServer(
        _tagged(ACCOUNT, '"v1"', **{"Cache-Control": "no-store"}),
        _tagged(ACCOUNT, '"v1"'),
        _tagged(ACCOUNT, '"v1"'),
    )
    with client_for(server, token="gst_one") as client:
        client.account.get()
        client.account.get()
        assert "If-None-Match" not in server.last.headers  # no-store: nothing was kept
        client.token = "gst_two"
        client.account.get()
        assert "If-None-Match" not in server.last.headers  # another caller's answer


def test_only_so_many_answers_are_kept() -> None:
    server = MockServer(*[_tagged(ACCOUNT, f'"v{n}"') for n in range(4)])
    with client_for(server) as client:
        client.revalidation.capacity = 2
        for prefix in ("/a", "/b", "/c"):
            client.execute(RequestSpec("GET", prefix, parse_nothing))
        client.execute(RequestSpec("GET", "/a", parse_nothing))
        assert "If-None-Match" not in server.last.headers  # the oldest went first


async def test_the_async_client_revalidates_too() -> None:
    server = MockServer(_tagged(ACCOUNT, '"v1"'), httpx.Response(304))
    async with async_client_for(server) as client:
        first = await client.account.get()
        assert await client.account.get() == first
        assert server.last.headers["If-None-Match"] == '"v1"'
