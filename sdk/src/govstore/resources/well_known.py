"""`/.well-known`: what verifiers and OAuth clients discover, public and unauthenticated."""

from __future__ import annotations

from .._models import Jwks, OAuthServerMetadata
from .._request import RequestSpec, parse_model
from ._core import M, Resource, endpoint


class WellKnown(Resource[M]):
    """The platform's public signing keys and its authorization server metadata."""

    @endpoint
    def jwks(self) -> RequestSpec[Jwks]:
        """The public keys that sign kitemark credentials and consent receipts (a JWK Set).

        Pass it to `govstore.verify_kitemark`; keep it cached, and fetch it again when a
        credential names a key (`kid`) it does not hold.
        """
        return RequestSpec("GET", "/.well-known/jwks.json", parse_model(Jwks))

    @endpoint
    def oauth_metadata(self) -> RequestSpec[OAuthServerMetadata]:
        """The authorization server's metadata (RFC 8414): endpoints, grants, PKCE methods."""
        return RequestSpec(
            "GET", "/.well-known/oauth-authorization-server", parse_model(OAuthServerMetadata)
        )
