"""Kitemarks granted to services, and the scope grants that let services see citizens' data.

Anyone may list a service's kitemarks and check one's status; reviewers and admins
suspend, revoke and reinstate them, and revoke scope grants, each with a reason.
"""

from __future__ import annotations

from .._models import Kitemark, KitemarkStatus, ScopeGrant
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path
from ._core import M, Resource, endpoint, paginated


class Kitemarks(Resource[M]):
    """Kitemark grants: each a signed credential that a service meets a scheme, until it expires."""

    @paginated
    def list(
        self, service_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[Kitemark]:
        """A service's current kitemarks, newest first, with status, expiry and credential.

        Public: no sign-in needed. Check a credential offline with `govstore.verify_kitemark`.
        """
        return PageSpec(
            path("/v1/services/{}/kitemarks", service_id), Kitemark, limit=limit, cursor=cursor
        )

    @endpoint
    def status(self, kitemark_id: str) -> RequestSpec[KitemarkStatus]:
        """Whether a kitemark holds now (public); suspension and revocation show here at once.

        A credential stays validly signed until it expires: verifiers that must know of a
        suspension or revocation ask here, by the credential's `jti`.
        """
        return RequestSpec(
            "GET", path("/v1/kitemarks/{}/status", kitemark_id), parse_model(KitemarkStatus)
        )

    @endpoint
    def suspend(self, kitemark_id: str, reason: str) -> RequestSpec[Kitemark]:
        """Suspend an active kitemark (reviewers and admins), with a `reason` (3 to 500 characters).

        The status endpoint and the catalogue show it at once; `reinstate` undoes it.
        """
        return _transition(kitemark_id, "suspend", reason)

    @endpoint
    def revoke(self, kitemark_id: str, reason: str) -> RequestSpec[Kitemark]:
        """Revoke a kitemark for good (reviewers and admins), with a `reason`.

        A revoked kitemark never comes back; the service must apply again.
        """
        return _transition(kitemark_id, "revoke", reason)

    @endpoint
    def reinstate(self, kitemark_id: str, reason: str) -> RequestSpec[Kitemark]:
        """Reinstate a suspended kitemark (reviewers and admins), with a `reason`.

        Only a suspended kitemark that has not expired; any other raises `ConflictError`.
        """
        return _transition(kitemark_id, "reinstate", reason)


def _transition(kitemark_id: str, action: str, reason: str) -> RequestSpec[Kitemark]:
    return RequestSpec(
        "POST",
        path("/v1/kitemarks/{}/{}", kitemark_id, action),
        parse_model(Kitemark),
        json={"reason": reason},
    )


class ScopeGrants(Resource[M]):
    """Scope grants: the data scopes (at a tier) a service's approval gave it."""

    @endpoint
    def revoke(self, grant_id: str, reason: str) -> RequestSpec[ScopeGrant]:
        """Revoke a scope grant (reviewers and admins), with a `reason` (3 to 500 characters).

        The service's tokens lose the scope at their next request or introspection.
        Grant ids are in `ProviderService.scope_grants`.
        """
        return RequestSpec(
            "POST",
            path("/v1/scope-grants/{}/revoke", grant_id),
            parse_model(ScopeGrant),
            json={"reason": reason},
        )
