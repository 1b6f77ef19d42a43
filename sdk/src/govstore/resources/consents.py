"""`/v1/me/consents`: the signed-in citizen's own consents to services, and signed receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .._models import Consent, ConsentReceipt
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path
from ._core import M, Resource, endpoint, paginated


class Consents(Resource[M]):
    """`/v1/me/consents`: what each service may see of the citizen's data, and until when.

    A citizen sees only their own consents; anyone else's is `NotFoundError`.
    """

    @paginated
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> PageSpec[Consent]:
        """Every consent the citizen gave, newest first, ended ones included."""
        return PageSpec("/v1/me/consents", Consent, limit=limit, cursor=cursor)

    @endpoint
    def get(self, consent_id: str) -> RequestSpec[Consent]:
        """One consent, with its scopes, data uses and last access."""
        return RequestSpec("GET", path("/v1/me/consents/{}", consent_id), parse_model(Consent))

    @endpoint
    def update(
        self,
        consent_id: str,
        *,
        scopes: Sequence[str] | None = None,
        expires_at: datetime | None = None,
    ) -> RequestSpec[Consent]:
        """Narrow an active consent to fewer `scopes`, or move its expiry to `expires_at`.

        Never widens: a scope not in the consent raises `UnprocessableEntityError` (adding
        one takes the service's consent screen again). `expires_at` must be in the future,
        within the platform's maximum from when the consent was given, and timezone-aware.
        An ended consent raises `ConflictError`.
        """
        body: dict[str, object] = {}
        if scopes is not None:
            if isinstance(scopes, str):
                raise TypeError("scopes is a list of scope names, not one string")
            body["scopes"] = list(scopes)
        if expires_at is not None:
            if expires_at.tzinfo is None or expires_at.utcoffset() is None:
                raise ValueError("expires_at must be timezone-aware, such as datetime.now(UTC)")
            body["expires_at"] = expires_at.isoformat()
        return RequestSpec(
            "PATCH", path("/v1/me/consents/{}", consent_id), parse_model(Consent), json=body
        )

    @endpoint
    def revoke(self, consent_id: str) -> RequestSpec[Consent]:
        """Revoke a consent: every token issued under it is inactive from now on.

        The service is told (`consent.revoked`). An ended consent raises `ConflictError`.
        """
        return RequestSpec("DELETE", path("/v1/me/consents/{}", consent_id), parse_model(Consent))

    @endpoint
    def receipt(self, consent_id: str) -> RequestSpec[ConsentReceipt]:
        """A signed receipt of a consent: Kantara Consent Receipt v1.1 fields, as a compact JWS."""
        return RequestSpec(
            "GET", path("/v1/me/consents/{}/receipt", consent_id), parse_model(ConsentReceipt)
        )
