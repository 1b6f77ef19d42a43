"""`govstore.oauth`: PKCE, the authorization URL, the token, revocation and introspection calls."""

from __future__ import annotations

import base64
import hashlib
import inspect
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

import govstore
from govstore import oauth

from .support import BASE_URL, MockServer

CLIENT_ID = "gsc_acme"
SECRET = "s3cret:with+odd/chars é"
TOKENS = {
    "access_token": "gsa_access",
    "token_type": "Bearer",
    "expires_in": 3600,
    "scope": "health.summary.read income.verify",
    "refresh_token": "gsr_refresh",
}
ACTIVE = {
    "active": True,
    "scope": "income.verify",
    "client_id": CLIENT_ID,
    "sub": "acc_1",
    "exp": 1_790_000_000,
    "iat": 1_789_996_400,
    "iss": "http://govstore.test",
    "token_type": "Bearer",
    "service_id": "svc_1",
    "consent_id": "con_1",
    "tiers": {"income.verify": "status"},
}


def form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True))


def basic(request: httpx.Request) -> tuple[str, str]:
    """The client credentials as the server reads them: base64, then form-urldecoded."""
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    # Form-urlencoded first: no raw ':' may be left to confuse the split.
    assert ":" not in secret
    return parse_qs(f"v={client_id}")["v"][0], parse_qs(f"v={secret}")["v"][0]


def oauth_error(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})


# PKCE and the authorization URL


def test_pkce_challenge_is_the_unpadded_base64url_sha256_of_the_verifier() -> None:
    verifier, challenge = oauth.pkce_pair()

    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.decode().rstrip("=")
    assert "=" not in challenge and len(challenge) == 43


def test_pkce_verifiers_meet_rfc_7636_and_are_never_reused() -> None:
    pairs = {oauth.pkce_pair() for _ in range(20)}

    assert len(pairs) == 20
    for verifier, _ in pairs:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)


def test_the_authorization_url_carries_every_parameter() -> None:
    url = govstore.authorization_url(
        "https://govstore.example/",
        CLIENT_ID,
        "https://acme.example/callback?from=app",
        ["health.summary.read", "income.verify"],
        "st&te",
        "challenge123",
    )

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "govstore.example",
        "/oauth/authorize",
    )
    assert dict(parse_qsl(parts.query, strict_parsing=True)) == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": "https://acme.example/callback?from=app",
        "scope": "health.summary.read income.verify",
        "state": "st&te",
        "code_challenge": "challenge123",
        "code_challenge_method": "S256",
    }
    # Spaces as %20, which every decoder reads (a '+' is a space only to form decoders).
    assert "scope=health.summary.read%20income.verify" in parts.query


def test_the_authorization_url_takes_scopes_as_one_string() -> None:
    url = oauth.authorization_url(BASE_URL, CLIENT_ID, "https://a.example/cb", "a.b  c.d", "s", "c")

    assert dict(parse_qsl(urlsplit(url).query))["scope"] == "a.b c.d"


@pytest.mark.parametrize(
    ("scopes", "state", "challenge", "message"),
    [
        ([], "s", "c", "at least one scope"),
        ("", "s", "c", "at least one scope"),
        (["a b"], "s", "c", "not a scope name"),
        (["a"], "", "c", "state is required"),
        (["a"], "s", "", "code_challenge is required"),
    ],
)
def test_the_authorization_url_refuses_what_the_server_would(
    scopes: Any, state: str, challenge: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        oauth.authorization_url(
            BASE_URL, CLIENT_ID, "https://a.example/cb", scopes, state, challenge
        )


# The token endpoint, on both clients

Call = Callable[[Any], Any]


async def run(client_class: type[Any], server: MockServer, call: Call, **options: Any) -> Any:
    """Make one call through the sync or async client class, over the mock server."""
    client = client_class(BASE_URL, CLIENT_ID, SECRET, transport=server.transport, **options)
    if client_class in (oauth.AsyncOAuthClient, oauth.AsyncDataApiClient):
        async with client:
            return await call(client)
    with client:
        return call(client)


OAUTH_CLIENTS = [oauth.OAuthClient, oauth.AsyncOAuthClient]
DATA_API_CLIENTS = [oauth.DataApiClient, oauth.AsyncDataApiClient]


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
async def test_exchange_code_sends_the_form_with_basic_auth(
    client_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSTORE_TOKEN", "gst_never_sent")
    server = MockServer(httpx.Response(200, json=TOKENS))

    tokens = await run(
        client_class,
        server,
        lambda c: c.exchange_code("code_1", "https://acme.example/callback", "verifier_1"),
    )

    request = server.last
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/oauth/token")
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": "code_1",
        "redirect_uri": "https://acme.example/callback",
        "code_verifier": "verifier_1",
    }
    assert basic(request) == (CLIENT_ID, SECRET)
    assert "Idempotency-Key" not in request.headers
    assert request.headers["Accept"] == "application/json"
    assert isinstance(tokens, govstore.TokenResponse)
    assert tokens.access_token == "gsa_access" and tokens.refresh_token == "gsr_refresh"
    assert tokens.scopes == ["health.summary.read", "income.verify"]
    assert tokens.expires_in == 3600 and tokens.token_type == "Bearer"


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
@pytest.mark.parametrize(
    ("call", "sent"),
    [
        (
            lambda c: c.refresh("gsr_1"),
            {"grant_type": "refresh_token", "refresh_token": "gsr_1"},
        ),
        (
            lambda c: c.refresh("gsr_1", scope=["income.verify"]),
            {"grant_type": "refresh_token", "refresh_token": "gsr_1", "scope": "income.verify"},
        ),
        (lambda c: c.client_credentials(), {"grant_type": "client_credentials"}),
        (
            lambda c: c.client_credentials("a.read b.read"),
            {"grant_type": "client_credentials", "scope": "a.read b.read"},
        ),
    ],
    ids=["refresh", "refresh narrowed", "client credentials", "client credentials scoped"],
)
async def test_refresh_and_client_credentials(
    client_class: type[Any], call: Call, sent: dict[str, str]
) -> None:
    answer = {key: value for key, value in TOKENS.items() if key != "refresh_token"}
    server = MockServer(httpx.Response(200, json=answer))

    tokens = await run(client_class, server, call)

    assert server.last.url.path == "/oauth/token"
    assert form(server.last) == sent
    assert basic(server.last) == (CLIENT_ID, SECRET)
    assert tokens.refresh_token is None


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
@pytest.mark.parametrize(
    ("hint", "sent"),
    [
        (None, {"token": "gsr_1"}),
        ("refresh_token", {"token": "gsr_1", "token_type_hint": "refresh_token"}),
        ("access_token", {"token": "gsr_1", "token_type_hint": "access_token"}),
    ],
)
async def test_revoke(client_class: type[Any], hint: str | None, sent: dict[str, str]) -> None:
    server = MockServer(httpx.Response(200))

    result = await run(client_class, server, lambda c: c.revoke("gsr_1", hint=hint))

    assert result is None
    assert server.last.url.path == "/oauth/revoke"
    assert form(server.last) == sent
    assert basic(server.last) == (CLIENT_ID, SECRET)


def test_revoke_refuses_an_unknown_hint() -> None:
    server = MockServer()

    client = oauth.OAuthClient(BASE_URL, CLIENT_ID, SECRET, transport=server.transport)
    with client, pytest.raises(ValueError, match="hint"):
        client.revoke("gsr_1", hint="id_token")  # type: ignore[arg-type]

    assert server.requests == []


# OAuth errors


ERRORS: dict[str, tuple[Callable[[], httpx.Response], int, str, str]] = {
    "invalid_grant": (
        lambda: oauth_error(400, "invalid_grant", "the code was used"),
        400,
        "invalid_grant",
        "the code was used",
    ),
    "invalid_client": (
        lambda: oauth_error(401, "invalid_client", "bad credentials"),
        401,
        "invalid_client",
        "bad credentials",
    ),
    "problem document": (
        lambda: httpx.Response(
            400,
            headers={"Content-Type": "application/problem+json"},
            json={"type": "about:blank", "title": "Bad request", "status": 400, "detail": "no"},
        ),
        400,
        "invalid_request",
        "no",
    ),
    "not json": (
        lambda: httpx.Response(502, text="<html>bad gateway</html>"),
        502,
        "server_error",
        "<html>bad gateway</html>",
    ),
}


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
@pytest.mark.parametrize("case", ERRORS)
async def test_oauth_errors_are_raised_as_oauth_error(client_class: type[Any], case: str) -> None:
    reply, status, error, description = ERRORS[case]
    server = MockServer(reply())

    with pytest.raises(govstore.OAuthError) as raised:
        await run(client_class, server, lambda c: c.exchange_code("c", "https://a.example", "v"))

    assert isinstance(raised.value, govstore.GovStoreError)
    assert (raised.value.status, raised.value.error) == (status, error)
    assert raised.value.error_description == description
    assert raised.value.response.status_code == status
    assert str(raised.value).startswith(f"{status} {error}")


@pytest.mark.parametrize("client_class", DATA_API_CLIENTS)
async def test_a_temporarily_unavailable_answer_is_retried(
    client_class: type[Any], sleeps: list[float]
) -> None:
    server = MockServer(
        httpx.Response(
            503,
            headers={"Retry-After": "1"},
            json={"error": "temporarily_unavailable", "error_description": "retry"},
        ),
        httpx.Response(200, json=ACTIVE),
    )

    answer = await run(client_class, server, lambda c: c.introspect("gsa_1"))

    assert answer.active and len(server.requests) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
async def test_a_code_exchange_is_never_replayed_after_a_broken_connection(
    client_class: type[Any], sleeps: list[float]
) -> None:
    server = MockServer(httpx.ReadError("connection reset"))

    with pytest.raises(govstore.APIConnectionError):
        await run(client_class, server, lambda c: c.exchange_code("c", "https://a.example", "v"))

    assert len(server.requests) == 1 and sleeps == []


@pytest.mark.parametrize("client_class", OAUTH_CLIENTS)
async def test_a_refused_connection_is_retried(
    client_class: type[Any], sleeps: list[float]
) -> None:
    server = MockServer(httpx.ConnectError("refused"), httpx.Response(200, json=TOKENS))

    tokens = await run(client_class, server, lambda c: c.client_credentials())

    assert tokens.access_token == "gsa_access" and len(sleeps) == 1


# Introspection, for data APIs


@pytest.mark.parametrize("client_class", DATA_API_CLIENTS)
async def test_introspect_an_active_token(client_class: type[Any]) -> None:
    server = MockServer(httpx.Response(200, json=ACTIVE))

    answer = await run(
        client_class, server, lambda c: c.introspect("gsa_1", case_reference="CASE-42")
    )

    assert server.last.url.path == "/oauth/introspect"
    assert form(server.last) == {"token": "gsa_1", "case_reference": "CASE-42"}
    assert basic(server.last) == (CLIENT_ID, SECRET)
    assert isinstance(answer, govstore.Introspection)
    assert answer.active and answer.scopes == ["income.verify"]
    assert answer.tiers == {"income.verify": "status"}
    assert answer.exp == datetime.fromtimestamp(1_790_000_000, UTC)
    assert (answer.sub, answer.consent_id, answer.service_id) == ("acc_1", "con_1", "svc_1")


@pytest.mark.parametrize("client_class", DATA_API_CLIENTS)
async def test_introspect_an_inactive_token(client_class: type[Any]) -> None:
    server = MockServer(httpx.Response(200, json={"active": False}))

    answer = await run(client_class, server, lambda c: c.introspect("gsa_dead"))

    assert form(server.last) == {"token": "gsa_dead"}
    assert not answer.active and answer.scopes == [] and answer.tiers == {}


@pytest.mark.parametrize("client_class", DATA_API_CLIENTS)
async def test_introspection_with_bad_credentials(client_class: type[Any]) -> None:
    server = MockServer(oauth_error(401, "invalid_client", "authenticate as a data API"))

    with pytest.raises(govstore.OAuthError) as raised:
        await run(client_class, server, lambda c: c.introspect("gsa_1"))

    assert (raised.value.status, raised.value.error) == (401, "invalid_client")


# The clients themselves


@pytest.mark.parametrize(
    ("sync_class", "async_class"),
    [(oauth.OAuthClient, oauth.AsyncOAuthClient), (oauth.DataApiClient, oauth.AsyncDataApiClient)],
)
async def test_sync_and_async_clients_have_the_same_methods(
    sync_class: type[Any], async_class: type[Any]
) -> None:
    sync_client = sync_class(BASE_URL, CLIENT_ID, SECRET)
    async_client = async_class(BASE_URL, CLIENT_ID, SECRET)

    def public(client: Any) -> dict[str, Any]:
        return {
            name: getattr(client, name)
            for name in dir(client)
            if not name.startswith("_") and name not in {"close", "aclose"}
        }

    sync_methods, async_methods = public(sync_client), public(async_client)
    assert sync_methods.keys() == async_methods.keys()
    for name, method in sync_methods.items():
        if not callable(method):
            assert method == async_methods[name], name
            continue
        assert inspect.signature(method) == inspect.signature(async_methods[name]), name
        assert method.__doc__ and method.__doc__ == async_methods[name].__doc__, name
        assert not inspect.iscoroutinefunction(method), name
        assert inspect.iscoroutinefunction(async_methods[name]), name
    sync_client.close()
    await async_client.aclose()


def test_the_clients_know_their_server_and_id_but_never_show_the_secret() -> None:
    client = oauth.OAuthClient(BASE_URL + "/", CLIENT_ID, SECRET)

    assert (client.base_url, client.client_id) == (BASE_URL, CLIENT_ID)
    assert SECRET not in repr(client) and CLIENT_ID in repr(client)
    client.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("", CLIENT_ID, SECRET), "base_url"),
        ((BASE_URL, "", SECRET), "client_id"),
        ((BASE_URL, CLIENT_ID, ""), "client_secret"),
    ],
)
def test_credentials_are_required(arguments: tuple[str, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        oauth.DataApiClient(*arguments)


def test_a_caller_supplied_http_client_is_used_and_left_open() -> None:
    server = MockServer(httpx.Response(200, json={"active": False}))
    http = httpx.Client(transport=server.transport)

    with oauth.DataApiClient(BASE_URL, CLIENT_ID, SECRET, http_client=http) as client:
        assert not client.introspect("gsa_1").active

    assert not http.is_closed
    http.close()


def test_the_module_is_reexported_from_the_package() -> None:
    for name in oauth.__all__:
        assert getattr(govstore, name) is getattr(oauth, name), name
