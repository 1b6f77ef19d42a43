"""Which SDK method calls which API operation: (METHOD, path template) -> "resource.method".

The table is explicit so it can be checked both ways: the SDK's own tests check
each method sends the request named here, and the server's test suite checks that
every operation in the OpenAPI document has an entry and that every entry names a
method both `Client` and `AsyncClient` have. A new endpoint without an SDK method
fails those tests rather than going unnoticed.

The OAuth endpoints (`/oauth/token`, `/oauth/introspect`, `/oauth/revoke`) are not
API operations: they speak OAuth's form-encoded requests and error documents, are not
in the OpenAPI document, and are called by `govstore.oauth`'s clients instead.

`HELPERS` names the few client methods that are not one operation but call one
repeatedly (`releases.wait` polls `releases.get`), so they need no route of their own.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["HELPERS", "ROUTES"]

_ROUTES: dict[tuple[str, str], str] = {
    # Accounts and sign-in
    ("POST", "/v1/accounts"): "accounts.register",
    ("POST", "/v1/auth/login"): "auth.login",
    ("POST", "/v1/auth/logout"): "auth.logout",
    ("GET", "/v1/account"): "account.get",
    ("GET", "/v1/account/api-tokens"): "account.api_tokens.list",
    ("POST", "/v1/account/api-tokens"): "account.api_tokens.create",
    ("DELETE", "/v1/account/api-tokens/{token_id}"): "account.api_tokens.revoke",
    # Administration
    ("GET", "/v1/admin/accounts"): "admin.accounts.list",
    ("POST", "/v1/admin/accounts/{account_id}/roles"): "admin.set_roles",
    ("GET", "/v1/admin/data-apis"): "admin.data_apis.list",
    ("POST", "/v1/admin/data-apis"): "admin.data_apis.create",
    # Review: automated checks, the reviewers' queue, claims and decisions
    ("GET", "/v1/checks"): "checks.list",
    ("GET", "/v1/review/queue"): "review.queue",
    ("GET", "/v1/review/releases/{release_id}"): "review.get",
    ("POST", "/v1/review/releases/{release_id}/claim"): "review.claim",
    ("DELETE", "/v1/review/releases/{release_id}/claim"): "review.release_claim",
    ("POST", "/v1/review/releases/{release_id}/decision"): "review.decide",
    ("POST", "/v1/review/releases/{release_id}/second-approval"): "review.second_approval",
    # The rules: guidelines, the manifest schema, scopes, kitemark schemes
    ("GET", "/v1/guidelines"): "guidelines.list",
    ("POST", "/v1/guidelines"): "guidelines.create",
    ("GET", "/v1/guidelines/current"): "guidelines.current",
    ("GET", "/v1/guidelines/{version}"): "guidelines.get",
    ("PUT", "/v1/guidelines/{version}"): "guidelines.revise",
    ("POST", "/v1/guidelines/{version}/publish"): "guidelines.publish",
    ("GET", "/v1/schemas/service-manifest"): "schemas.service_manifest",
    ("GET", "/v1/scopes"): "scopes.list",
    ("POST", "/v1/scopes"): "scopes.create",
    ("GET", "/v1/kitemark-schemes"): "kitemark_schemes.list",
    ("POST", "/v1/kitemark-schemes"): "kitemark_schemes.create",
    # Organisations, services and releases
    ("GET", "/v1/organisations"): "organisations.list",
    ("POST", "/v1/organisations"): "organisations.create",
    ("GET", "/v1/organisations/{org_id}"): "organisations.get",
    ("POST", "/v1/organisations/{org_id}/members"): "organisations.add_member",
    ("PUT", "/v1/organisations/{org_id}/webhook"): "organisations.webhook.set",
    ("GET", "/v1/organisations/{org_id}/webhook"): "organisations.webhook.get",
    ("DELETE", "/v1/organisations/{org_id}/webhook"): "organisations.webhook.delete",
    ("GET", "/v1/organisations/{org_id}/webhook/deliveries"): "organisations.webhook.deliveries",
    ("GET", "/v1/organisations/{org_id}/services"): "services.list",
    ("POST", "/v1/organisations/{org_id}/services"): "services.create",
    ("GET", "/v1/services/{service_id}"): "services.get",
    ("POST", "/v1/services/{service_id}/suspend"): "services.suspend",
    ("POST", "/v1/services/{service_id}/reinstate"): "services.reinstate",
    ("GET", "/v1/services/{service_id}/releases"): "releases.list",
    ("POST", "/v1/services/{service_id}/releases"): "releases.submit",
    ("GET", "/v1/services/{service_id}/releases/{release_id}"): "releases.get",
    ("POST", "/v1/services/{service_id}/releases/{release_id}/withdraw"): "releases.withdraw",
    ("POST", "/v1/services/{service_id}/releases/{release_id}/appeal"): "releases.appeal",
    # Trust: kitemarks, scope grants, the service's OAuth client, signing keys
    ("GET", "/v1/services/{service_id}/kitemarks"): "kitemarks.list",
    ("GET", "/v1/kitemarks/{kitemark_id}/status"): "kitemarks.status",
    ("POST", "/v1/kitemarks/{kitemark_id}/suspend"): "kitemarks.suspend",
    ("POST", "/v1/kitemarks/{kitemark_id}/revoke"): "kitemarks.revoke",
    ("POST", "/v1/kitemarks/{kitemark_id}/reinstate"): "kitemarks.reinstate",
    ("POST", "/v1/scope-grants/{grant_id}/revoke"): "scope_grants.revoke",
    ("GET", "/v1/services/{service_id}/oauth-client"): "services.oauth_client.get",
    ("POST", "/v1/services/{service_id}/oauth-client"): "services.oauth_client.rotate_secret",
    ("GET", "/.well-known/jwks.json"): "well_known.jwks",
    ("GET", "/.well-known/oauth-authorization-server"): "well_known.oauth_metadata",
    # A citizen's own records: consents, complaints, who read their data, export, erasure
    ("GET", "/v1/me/consents"): "me.consents.list",
    ("GET", "/v1/me/consents/{consent_id}"): "me.consents.get",
    ("PATCH", "/v1/me/consents/{consent_id}"): "me.consents.update",
    ("DELETE", "/v1/me/consents/{consent_id}"): "me.consents.revoke",
    ("GET", "/v1/me/consents/{consent_id}/receipt"): "me.consents.receipt",
    ("GET", "/v1/me/complaints"): "me.complaints",
    ("GET", "/v1/me/access-log"): "me.access_log",
    ("GET", "/v1/me/transparency"): "me.transparency",
    ("GET", "/v1/me/export"): "me.export",
    ("DELETE", "/v1/me"): "me.erase",
    # The public catalogue: search, service pages, ratings, complaints
    ("GET", "/v1/catalogue/services"): "catalogue.search",
    ("GET", "/v1/catalogue/services/{slug}"): "catalogue.get",
    ("GET", "/v1/catalogue/services/{slug}/ratings"): "catalogue.ratings",
    ("POST", "/v1/catalogue/services/{slug}/ratings"): "catalogue.rate",
    ("POST", "/v1/catalogue/services/{slug}/complaints"): "catalogue.complain",
    # Complaints as providers and reviewers handle them; outcomes providers report
    ("GET", "/v1/services/{service_id}/complaints"): "complaints.list",
    ("GET", "/v1/complaints/{complaint_id}"): "complaints.get",
    ("POST", "/v1/complaints/{complaint_id}/responses"): "complaints.respond",
    ("POST", "/v1/complaints/{complaint_id}/resolve"): "complaints.resolve",
    ("POST", "/v1/services/{service_id}/outcomes"): "services.report_outcome",
    ("GET", "/v1/services/{service_id}/outcomes"): "services.outcomes",
    # The transparency log: the signed tree head, entries and proofs (public)
    ("GET", "/v1/transparency/tree-head"): "transparency.tree_head",
    ("GET", "/v1/transparency/entries"): "transparency.entries",
    ("GET", "/v1/transparency/proofs/inclusion"): "transparency.inclusion_proof",
    ("GET", "/v1/transparency/proofs/consistency"): "transparency.consistency_proof",
}

ROUTES: Final = MappingProxyType(_ROUTES)
"""Read-only: (HTTP method, OpenAPI path template) -> dotted SDK method under a client."""

HELPERS: Final = frozenset({"releases.wait"})
"""Dotted client methods built on other methods' operations, with no route of their own."""
