"""OAuth 2 for services and data APIs: PKCE, the authorization URL, tokens, introspection.

A service that holds approved scopes gets citizens' tokens by the authorization code
flow with PKCE (RFC 6749 §4.1, RFC 7636)::

    verifier, challenge = pkce_pair()           # keep the verifier (in the session)
    url = authorization_url(base_url, client_id, redirect_uri, scopes, state, challenge)
    # ... send the citizen to `url`; GovStore redirects back with ?code=...&state=...
    with OAuthClient(base_url, client_id, client_secret) as oauth:
        tokens = oauth.exchange_code(code, redirect_uri, verifier)

`OAuthClient` also refreshes tokens (each refresh token is used once: keep the new
one), gets tokens for the service itself (`client_credentials`) and revokes them. A
department's data API checks the tokens services present with `DataApiClient`.

These endpoints are not part of the JSON API: they take form-encoded requests, the
client authenticates with HTTP Basic (RFC 6749 §2.3.1), and errors are OAuth error
documents, raised as `OAuthError`. `AsyncOAuthClient` and `AsyncDataApiClient` have
the same methods, awaited. Like `Client`, each retries 429 and 503 answers (honouring
`Retry-After`) and a connection refused before anything was sent; any other broken
connection is raised, never replayed, as an authorization code or refresh token is
good for one use only.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote, urlencode

import httpx

from ._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    USER_AGENT,
    AsyncAPIClient,
    BaseClient,
    SyncAPIClient,
)
from ._exceptions import OAuthError
from ._models import Introspection, TokenResponse
from ._request import RequestSpec, parse_model, parse_nothing
from .resources._core import AsyncMode, M, Resource, SyncMode, endpoint

__all__ = [
    "AsyncDataApiClient",
    "AsyncOAuthClient",
    "DataApiClient",
    "Introspection",
    "OAuthClient",
    "OAuthError",
    "TokenResponse",
    "authorization_url",
    "pkce_pair",
]

T = TypeVar("T")

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
INTROSPECT_PATH = "/oauth/introspect"
REVOKE_PATH = "/oauth/revoke"

Scopes = str | Sequence[str]
"""Scopes as a list of names, or one space-separated string."""

TokenTypeHint = Literal["access_token", "refresh_token"]


def pkce_pair() -> tuple[str, str]:
    """A new PKCE code verifier and its S256 code challenge (RFC 7636 §4.1, §4.2).

    The verifier is 86 random URL-safe characters: keep it (in the user's session) to
    send with `exchange_code`; put the challenge in the authorization URL.
    """
    verifier = secrets.token_urlsafe(64)
    return verifier, _s256(verifier)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: Scopes,
    state: str,
    code_challenge: str,
) -> str:
    """Where to send a citizen to consent: GovStore's consent screen for these `scopes`.

    `redirect_uri` must be exactly one of the service's approved redirect URIs;
    `state` an unguessable value tied to the user's session (check it when they come
    back); `code_challenge` the challenge of `pkce_pair()` (method S256). The
    citizen comes back to `redirect_uri` with `code` and `state`, or with `error`.
    """
    scope = _scope(scopes)
    if not scope:
        raise ValueError("ask for at least one scope")
    if not state:
        raise ValueError("state is required: an unguessable value tied to the user's session")
    if not code_challenge:
        raise ValueError("code_challenge is required: use pkce_pair()")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def _scope(scopes: Scopes | None) -> str:
    if scopes is None:
        return ""
    names = scopes.split() if isinstance(scopes, str) else [str(name) for name in scopes]
    for name in names:
        if not name or any(character.isspace() for character in name):
            raise ValueError(f"not a scope name: {name!r}")
    return " ".join(names)


def basic_authorization(client_id: str, client_secret: str) -> str:
    """HTTP Basic client credentials: each part form-urlencoded first (RFC 6749 §2.3.1)."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


# Sending: the clients' retry loop, with a form body, Basic auth and OAuth errors.


class _FormSender(BaseClient):
    """What the OAuth senders change in a client: their headers and how errors are read."""

    client_id: str
    _authorization: str

    def _use_credentials(self, client_id: str, client_secret: str) -> None:
        if not client_id:
            raise ValueError("client_id is empty")
        if not client_secret:
            raise ValueError("client_secret is empty")
        self.client_id = client_id
        self._authorization = basic_authorization(client_id, client_secret)

    def _headers(self, spec: RequestSpec[Any]) -> dict[str, str]:
        # The client's own credentials only: never a GovStore bearer token, never an
        # Idempotency-Key (these endpoints do not replay answers).
        return {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Authorization": self._authorization,
        }

    @staticmethod
    def _process_response(spec: RequestSpec[T], response: httpx.Response) -> T:
        if response.is_error:
            raise OAuthError(response)
        return spec.parse(response)


class _SyncSender(_FormSender, SyncAPIClient):
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout,
        max_retries: int,
        http_client: httpx.Client | None,
        transport: httpx.BaseTransport | None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is empty")
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            transport=transport,
        )
        self._use_credentials(client_id, client_secret)


class _AsyncSender(_FormSender, AsyncAPIClient):
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout,
        max_retries: int,
        http_client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is empty")
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            transport=transport,
        )
        self._use_credentials(client_id, client_secret)


class _FormClient(Resource[M]):
    """An OAuth client or data API, authenticated by its client id and secret."""

    _sender: _SyncSender | _AsyncSender

    def __init__(self, sender: _SyncSender | _AsyncSender) -> None:
        super().__init__(sender)
        self._sender = sender

    @property
    def base_url(self) -> str:
        """The GovStore server's base URL."""
        return self._sender.base_url

    @property
    def client_id(self) -> str:
        """The client id this client authenticates as."""
        return self._sender.client_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, client_id={self.client_id!r})"


class _SyncLifecycle:
    _sender: _SyncSender | _AsyncSender

    def close(self) -> None:
        """Close the connection pool, unless the caller passed in their own `http_client`."""
        sender = self._sender
        assert isinstance(sender, _SyncSender)
        sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _AsyncLifecycle:
    _sender: _SyncSender | _AsyncSender

    async def aclose(self) -> None:
        """Close the connection pool, unless the caller passed in their own `http_client`."""
        sender = self._sender
        assert isinstance(sender, _AsyncSender)
        await sender.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


# A service's OAuth client


class _TokenEndpoints(_FormClient[M]):
    """The token and revocation endpoints, for a service's OAuth client."""

    @endpoint
    def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str
    ) -> RequestSpec[TokenResponse]:
        """Exchange an authorization code for the citizen's tokens (once: a code is single-use).

        `redirect_uri` is the one the authorization URL named; `code_verifier` the PKCE
        verifier whose challenge it carried. A used, expired or mismatched code raises
        `OAuthError` `invalid_grant`.
        """
        return _token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )

    @endpoint
    def refresh(
        self, refresh_token: str, scope: Scopes | None = None
    ) -> RequestSpec[TokenResponse]:
        """New tokens for a refresh token; keep the new refresh token, the old one is spent.

        `scope` may narrow the tokens to fewer of the consent's scopes. A refresh token
        used twice ends its whole family (every token from that consent's grant): the
        second use raises `OAuthError` `invalid_grant`.
        """
        return _token_request(
            grant_type="refresh_token", refresh_token=refresh_token, scope=_scope(scope) or None
        )

    @endpoint
    def client_credentials(self, scope: Scopes | None = None) -> RequestSpec[TokenResponse]:
        """A token for the service itself, not for any citizen (no refresh token).

        Without `scope`, every scope the service holds; scopes it does not hold are left out.
        """
        return _token_request(grant_type="client_credentials", scope=_scope(scope) or None)

    @endpoint
    def revoke(self, token: str, hint: TokenTypeHint | None = None) -> RequestSpec[None]:
        """Revoke one of the service's access or refresh tokens (RFC 7009).

        Revoking a refresh token ends its whole family, access tokens included. A token
        that is unknown, already dead or another client's is answered the same way, so
        this never says whether it existed. `hint` (`access_token` or `refresh_token`)
        only speeds the search.
        """
        if hint is not None and hint not in ("access_token", "refresh_token"):
            raise ValueError("hint is 'access_token' or 'refresh_token'")
        form = {"token": token}
        if hint is not None:
            form["token_type_hint"] = hint
        return RequestSpec("POST", REVOKE_PATH, parse_nothing, form=form)


def _token_request(**fields: str | None) -> RequestSpec[TokenResponse]:
    form = {name: value for name, value in fields.items() if value is not None}
    return RequestSpec("POST", TOKEN_PATH, parse_model(TokenResponse), form=form)


class OAuthClient(_SyncLifecycle, _TokenEndpoints[SyncMode]):
    """A service's OAuth client: exchanges codes, refreshes, gets and revokes tokens.

    `client_id` and `client_secret` come from `services.oauth_client.get` and
    `services.oauth_client.rotate_secret`. `timeout`, `max_retries`, `http_client` and
    `transport` are as for `govstore.Client`.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            _SyncSender(
                base_url,
                client_id,
                client_secret,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
                transport=transport,
            )
        )


class AsyncOAuthClient(_AsyncLifecycle, _TokenEndpoints[AsyncMode]):
    """A service's OAuth client, awaited: the same methods as `OAuthClient`.

    `transport` takes an `httpx.AsyncBaseTransport`, such as `httpx.ASGITransport`.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            _AsyncSender(
                base_url,
                client_id,
                client_secret,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
                transport=transport,
            )
        )


# A department's data API


class _IntrospectionEndpoint(_FormClient[M]):
    """The introspection endpoint, for a registered data API."""

    @endpoint
    def introspect(
        self, token: str, case_reference: str | None = None
    ) -> RequestSpec[Introspection]:
        """What a token presented to the data API may see (RFC 7662); check `active` first.

        An active answer names only the scopes of this data API's own data owner, with
        the tier of each; a token carrying none of them is inactive here. For a
        citizen's token the access is recorded (the citizen sees it), with
        `case_reference` (up to 200 characters) when given.
        """
        form = {"token": token}
        if case_reference is not None:
            form["case_reference"] = case_reference
        return RequestSpec("POST", INTROSPECT_PATH, parse_model(Introspection), form=form)


class DataApiClient(_SyncLifecycle, _IntrospectionEndpoint[SyncMode]):
    """A department's data API: checks the tokens services present to it.

    `client_id` and `client_secret` come from `admin.data_apis.create`. `timeout`,
    `max_retries`, `http_client` and `transport` are as for `govstore.Client`.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            _SyncSender(
                base_url,
                client_id,
                client_secret,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
                transport=transport,
            )
        )


class AsyncDataApiClient(_AsyncLifecycle, _IntrospectionEndpoint[AsyncMode]):
    """A department's data API, awaited: the same methods as `DataApiClient`."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            _AsyncSender(
                base_url,
                client_id,
                client_secret,
                timeout=timeout,
                max_retries=max_retries,
                http_client=http_client,
                transport=transport,
            )
        )
