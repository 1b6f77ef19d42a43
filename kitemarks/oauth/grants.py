"""The grant types we allow, as authlib grants over the request's in-memory `Exchange`.

RFC 6749 §4.1 authorization code with RFC 7636 PKCE (S256 only, always required), §6 refresh
with rotation and reuse detection, §4.4 client credentials.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7636 import CodeChallenge

from kitemarks.oauth.server import Citizen, Code, RefreshCredential, Server


class RequiredS256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every authorization request, and only the S256 method (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'")
        super().validate_code_challenge(grant, redirect_uri)


class GrantedScopesOnly:
    """A request may name only scopes the service was granted (RFC 6749 §3.3: invalid_scope)."""

    request: Any

    def validate_requested_scope(self) -> None:
        requested = set((self.request.payload.scope or "").split())
        not_granted = requested - set(self.request.client.row.scopes)
        if not_granted:
            raise InvalidScopeError(
                f"not granted to this service: {', '.join(sorted(not_granted))}"
            )


class AuthorizationCodeGrant(GrantedScopesOnly, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        self.server.exchange.saved_code = (code, request)

    def query_authorization_code(self, code: str, client: Any) -> Code | None:
        found = self.server.exchange.code
        if found is None or found.row.client_id != client.get_client_id():
            return None
        held: Code = found
        return held

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.exchange.code_used = True

    def authenticate_user(self, authorization_code: Code) -> Citizen:
        return Citizen(authorization_code.row.account_id, authorization_code.row.consent_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh token works once

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshCredential | None:
        found = self.server.exchange.refresh
        if found is None or found.is_expired() or found.row.revoked_at is not None:
            return None
        if found.row.rotated_at is not None:
            # Reuse of a rotated token: someone holds a copy. End the whole family.
            self.server.exchange.replayed_family = found.row.family_id
            return None
        credential: RefreshCredential = found
        return credential

    def authenticate_user(self, refresh_token: RefreshCredential) -> Citizen | None:
        row = refresh_token.row
        if row.account_id is None or row.consent_id is None:
            return None
        return Citizen(row.account_id, row.consent_id)

    def revoke_old_credential(self, refresh_token: RefreshCredential) -> None:
        self.server.exchange.rotated = True


class ClientCredentialsGrant(GrantedScopesOnly, grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # No scope asked for: every scope the service holds (never more; checked above).
        scope = self.request.client.get_allowed_scope(self.request.payload.scope)
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


def create_server(server: Server) -> Server:
    server.register_grant(AuthorizationCodeGrant, [RequiredS256(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    return server
