"""Accounts and auth: registering, signing in, the caller's account and its API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from .._base_client import BaseClient
from .._models import Account, ApiToken, ApiTokenScope, LoginResult
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, parse_nothing, path
from ._core import M, Resource, endpoint, paginated


class Accounts(Resource[M]):
    """`/v1/accounts`: anyone may register."""

    @endpoint
    def register(
        self, email: str, password: str, display_name: str, role: str
    ) -> RequestSpec[Account]:
        """Register a `citizen` or `provider` account."""
        body = {"email": email, "password": password, "display_name": display_name, "role": role}
        return RequestSpec("POST", "/v1/accounts", parse_model(Account), json=body, creates=True)


class Auth(Resource[M]):
    """`/v1/auth`: first-party sign-in and sign-out."""

    @endpoint
    def login(self, email: str, password: str) -> RequestSpec[LoginResult]:
        """Sign in; the client keeps the access token and sends it from then on."""

        def keep_token(result: LoginResult) -> None:
            self._client.token = result.access_token

        return RequestSpec(
            "POST",
            "/v1/auth/login",
            parse_model(LoginResult),
            json={"email": email, "password": password},
            on_success=keep_token,
        )

    @endpoint
    def logout(self) -> RequestSpec[None]:
        """Sign out: revoke the token this client sends, which it then forgets.

        With an API token as the client's token, that API token is revoked.
        """

        def forget_token(_: None) -> None:
            self._client.token = None

        return RequestSpec("POST", "/v1/auth/logout", parse_nothing, on_success=forget_token)


class ApiTokens(Resource[M]):
    """`/v1/account/api-tokens`: long-lived, scoped tokens for scripts and CI."""

    @endpoint
    def create(
        self, name: str, expires_in_days: int, scopes: Sequence[ApiTokenScope | str]
    ) -> RequestSpec[ApiToken]:
        """Mint a token; its secret is in `ApiToken.token`, shown this once only.

        `scopes` are `ApiTokenScope` values: `read`, `organisations:write`,
        `services:write`, `review:write`, `admin:write`. Only a signed-in session,
        not another API token, can mint tokens.
        """
        body = {
            "name": name,
            "expires_in_days": expires_in_days,
            "scopes": [str(scope) for scope in scopes],
        }
        return RequestSpec(
            "POST", "/v1/account/api-tokens", parse_model(ApiToken), json=body, creates=True
        )

    @endpoint
    def revoke(self, token_id: str) -> RequestSpec[None]:
        """Revoke a token at once."""
        return RequestSpec("DELETE", path("/v1/account/api-tokens/{}", token_id), parse_nothing)

    @paginated
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> PageSpec[ApiToken]:
        """The caller's tokens (without their secrets)."""
        return PageSpec("/v1/account/api-tokens", ApiToken, limit=limit, cursor=cursor)


class CurrentAccount(Resource[M]):
    """`/v1/account`: the signed-in caller's own account."""

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self.api_tokens: ApiTokens[M] = ApiTokens(client)

    @endpoint
    def get(self) -> RequestSpec[Account]:
        """The caller's account."""
        return RequestSpec("GET", "/v1/account", parse_model(Account))
