"""Every resource method: its HTTP method, path, body and parsed result, on both clients."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import govstore
from govstore._routes import HELPERS, ROUTES
from govstore.resources import Resource

from .support import BASE_URL, MockServer

CREATED = "2026-01-02T03:04:05Z"
ACCOUNT = {
    "id": "acc_1",
    "email": "p@example.test",
    "display_name": "P",
    "roles": ["admin"],
    "created_at": CREATED,
}
API_TOKEN = {
    "id": "tok_1",
    "name": "ci",
    "prefix": "gst_ab12",
    "scopes": ["read", "services:write"],
    "created_at": CREATED,
    "expires_at": "2026-04-02T03:04:05Z",
    "token": "gst_ab12_secret",
}
MEMBER = {
    "account_id": "acc_2",
    "email": "d@example.test",
    "display_name": "D",
    "role": "developer",
    "joined_at": CREATED,
}
ORGANISATION = {
    "id": "org_1",
    "name": "Acme",
    "contact_email": "hello@acme.test",
    "company_number": "01234567",
    "members": [MEMBER],
    "created_at": CREATED,
}
ORGANISATION_SUMMARY = {"id": "org_1", "name": "Acme", "role": "owner", "created_at": CREATED}
GUIDELINE = {
    "code": "PRIV-1",
    "title": "Minimal data",
    "text": "Ask only for what you need.",
    "category": "privacy",
    "severity": "blocking",
    "check": "lowest-sufficient-tier",
    "kitemarks": ["privacy-assured"],
}
GUIDELINE_VERSION_SUMMARY = {
    "version": "2026.1",
    "title": "First",
    "status": "draft",
    "created_at": CREATED,
    "published_at": None,
}
GUIDELINE_VERSION = {**GUIDELINE_VERSION_SUMMARY, "guidelines": [GUIDELINE]}
SCOPE = {
    "name": "income.verify",
    "title": "Verify income",
    "description": "Yes or no: income under a threshold",
    "tier": "status",
    "sensitivity": "low",
    "data_owner": "HMRC",
}
SCOPE_OUT = {**SCOPE, "created_at": CREATED}
SCHEME = {
    "slug": "privacy-assured",
    "title": "Privacy assured",
    "description": "Handles data well",
    "criteria": ["PRIV-1"],
    "validity_days": 365,
}
SCHEME_OUT = {**SCHEME, "created_at": CREATED}
DATA_API = {
    "id": "dapi_1",
    "name": "HMRC income",
    "data_owner": "HMRC",
    "client_id": "dapi_client",
    "created_at": CREATED,
    "client_secret": "s3cret",
}
RELEASE_SUMMARY = {
    "id": "rel_1",
    "number": 1,
    "status": "submitted",
    "created_at": CREATED,
    "status_changed_at": CREATED,
}
RELEASE = {
    **RELEASE_SUMMARY,
    "service_id": "svc_1",
    "manifest": {"name": "Acme GP Online"},
    "guideline_version": "2026.1",
    "previous_release_id": None,
    "changed_fields": None,
    "history": [
        {
            "status": "submitted",
            "previous_status": None,
            "action": "submit",
            "at": CREATED,
            "actor_id": "acc_1",
            "reason": None,
        }
    ],
}
SERVICE = {
    "id": "svc_1",
    "slug": "acme-gp",
    "name": "Acme GP Online",
    "organisation_id": "org_1",
    "created_at": CREATED,
    "releases": [RELEASE_SUMMARY],
}
EVIDENCE = {
    "criterion": "PRIV-1",
    "level": "self_assertion",
    "reference": "DPIA v3",
    "finding": "pass",
}
KITEMARK = {
    "id": "kmk_1",
    "service_id": "svc_1",
    "release_id": "rel_1",
    "scheme": "privacy-assured",
    "status": "active",
    "valid": True,
    "granted_at": CREATED,
    "expires_at": "2027-01-02T03:04:05Z",
    "status_reason": None,
    "evidence": [EVIDENCE],
    "credential": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
    "status_url": "http://govstore.test/v1/kitemarks/kmk_1/status",
}
KITEMARK_STATUS = {"status": "active", "valid": True, "expires_at": "2027-01-02T03:04:05Z"}
SCOPE_GRANT = {
    "id": "sgr_1",
    "scope": "income.verify",
    "tier": "status",
    "status": "active",
    "release_id": "rel_1",
    "granted_at": CREATED,
    "status_reason": None,
}
PROVIDER_SERVICE = {
    **SERVICE,
    "kitemarks": [KITEMARK],
    "scope_grants": [SCOPE_GRANT],
    "oauth_client_id": "gsc_1",
}
OAUTH_CLIENT = {
    "client_id": "gsc_1",
    "redirect_uris": ["https://acme.test/callback"],
    "scopes": ["income.verify"],
    "has_secret": True,
    "secret_rotated_at": CREATED,
}
TREE_HEAD = {
    "tree_size": 3,
    "root_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "timestamp": 1764806400000,
    "signature": "eyJ.eyJ.sig",
}
LOG_ENTRY = {
    "leaf_index": 2,
    "leaf_hash": "bGVhZg==",
    "kind": "consent.granted",
    "time": "2026-12-01T09:00:00.000Z",
    "body": {"citizen": "cz_0123", "service_id": "svc_1", "scopes": ["income.verify"]},
    "entry": '{"body":{"citizen":"cz_0123","scopes":["income.verify"],"service_id":"svc_1"},'
    '"kind":"consent.granted","time":"2026-12-01T09:00:00.000Z"}',
}
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1", "alg": "ES256"}]}
METADATA = {
    "issuer": "http://govstore.test",
    "authorization_endpoint": "http://govstore.test/oauth/authorize",
    "token_endpoint": "http://govstore.test/oauth/token",
    "introspection_endpoint": "http://govstore.test/oauth/introspect",
    "revocation_endpoint": "http://govstore.test/oauth/revoke",
    "jwks_uri": "http://govstore.test/.well-known/jwks.json",
    "response_types_supported": ["code"],
    "response_modes_supported": ["query"],
    "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
    "code_challenge_methods_supported": ["S256"],
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
    "revocation_endpoint_auth_methods_supported": ["client_secret_basic"],
    "service_documentation": "http://govstore.test/docs",
}
CONSENT = {
    "id": "con_1",
    "service": {"id": "svc_1", "slug": "acme-gp", "name": "Acme GP Online"},
    "scopes": ["income.verify"],
    "uses": [
        {
            "scope": "income.verify",
            "title": "Verify income",
            "description": "Yes or no",
            "data_owner": "HMRC",
            "tier": "status",
            "tier_meaning": "a yes or no answer",
            "purpose": "service_delivery",
            "purpose_description": "Check eligibility",
            "lawful_basis": "consent",
            "retention_days": 30,
            "shared_with_third_parties": False,
            "optional": False,
        }
    ],
    "status": "active",
    "granted_at": CREATED,
    "expires_at": "2026-04-02T03:04:05Z",
    "ended_at": None,
    "end_reason": None,
    "last_access_at": None,
}
RECEIPT = {"receipt": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "claims": {"version": "KI-CR-v1.1.0"}}
SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
CHECK = {"id": "https-only", "title": "HTTPS only", "description": "Every URL uses https."}
FINDING = {
    "code": "ACC-1",
    "source": "automated",
    "check": "accessibility-statement",
    "result": "pass",
    "severity": "blocking",
    "pointer": "",
    "message": "Accessibility statement: passed",
    "fix": "",
    "created_at": CREATED,
}
DECISION = {
    "id": "dec_1",
    "release_id": "rel_1",
    "outcome": "approve",
    "reason_codes": [],
    "kitemarks": ["privacy-assured"],
    "scopes": ["income.verify"],
    "note": None,
    "needs_second_approval": False,
    "second_outcome": None,
    "decided_at": CREATED,
    "completed_at": CREATED,
}
RELEASE_DETAIL = {
    **RELEASE,
    "status": "awaiting_review",
    "findings": [FINDING],
    "decision": None,
    "queue": {"position": 1, "median_time_to_decision_seconds": None},
}
QUEUE_ITEM = {
    "release_id": "rel_1",
    "service_id": "svc_1",
    "service_name": "Acme GP Online",
    "service_slug": "acme-gp",
    "organisation_id": "org_1",
    "number": 1,
    "risk_score": 3,
    "risk_factors": ["new provider: nothing listed yet"],
    "queued_at": CREATED,
    "waiting_seconds": 60,
}
REVIEWER_RELEASE = {
    **RELEASE_DETAIL,
    "service_name": "Acme GP Online",
    "organisation_id": "org_1",
    "risk_score": 3,
    "risk_factors": ["new provider: nothing listed yet"],
    "claimed_by": None,
    "lease_expires_at": None,
    "decisions": [],
}
CLAIM = {
    "release_id": "rel_1",
    "status": "in_review",
    "claimed_by": "acc_1",
    "lease_expires_at": "2026-01-02T03:34:05Z",
}
PASS_ALL = [{"code": "PRIV-1", "result": "pass"}, {"code": "ACC-1", "result": "pass"}]
WEBHOOK = {
    "organisation_id": "org_1",
    "url": "https://acme.test/hooks",
    "events": ["release.status_changed"],
    "created_at": CREATED,
    "updated_at": CREATED,
    "secret": None,
}
DELIVERY = {
    "id": "whd_1",
    "event": "release.status_changed",
    "url": "https://acme.test/hooks",
    "status": "delivered",
    "attempts": 1,
    "last_status_code": 204,
    "last_error": None,
    "next_attempt_at": None,
    "created_at": CREATED,
    "delivered_at": CREATED,
    "payload": {
        "id": "whd_1",
        "event": "release.status_changed",
        "created_at": CREATED,
        "data": {"release_id": "rel_1", "from": "submitted", "to": "automated_review"},
    },
}


SERVICE_REF = {"id": "svc_1", "slug": "acme-gp", "name": "Acme GP Online"}
LISTING = {
    "id": "svc_1",
    "slug": "acme-gp",
    "name": "Acme GP Online",
    "summary": "Video consultations",
    "category": "health",
    "provider": {"id": "org_1", "name": "Acme"},
    "kitemarks": [{"scheme": "privacy-assured", "title": "Privacy assured", "expires_at": CREATED}],
    "scopes": ["income.verify"],
    "rating": {"count": 2, "mean": 4.5},
    "under_review": False,
    "listed_at": CREATED,
    "url": "http://govstore.test/v1/catalogue/services/acme-gp",
}
SERVICE_PAGE = {
    "id": "svc_1",
    "slug": "acme-gp",
    "name": "Acme GP Online",
    "summary": "Video consultations",
    "description": "See your GP by video.",
    "category": "health",
    "provider": {"id": "org_1", "name": "Acme"},
    "release": {"id": "rel_1", "number": 1},
    "website_url": "https://acme.test",
    "privacy_policy_url": "https://acme.test/privacy",
    "accessibility_statement_url": None,
    "support_email": "help@acme.test",
    "languages": ["en", "cy"],
    "pricing": {"free_at_point_of_use": True},
    "under_review": False,
    "listed_at": CREATED,
    "kitemarks": [
        {
            "id": "kmk_1",
            "scheme": "privacy-assured",
            "status": "active",
            "valid": True,
            "granted_at": CREATED,
            "expires_at": "2027-01-02T03:04:05Z",
            "status_url": "http://govstore.test/v1/kitemarks/kmk_1/status",
        }
    ],
    "data_uses": [
        {
            "scope": "income.verify",
            "title": "Verify income",
            "description": "Yes or no",
            "data_owner": "HMRC",
            "tier": "status",
            "tier_meaning": "a yes or no answer",
            "purpose": "eligibility_check",
            "purpose_description": "Check eligibility",
            "lawful_basis": "consent",
            "retention_days": None,
            "shared_with_third_parties": False,
            "optional": True,
            "plain_english": "Reads Verify income from HMRC (a yes or no answer) ...",
        }
    ],
    "ratings": {
        "count": 2,
        "mean": 4.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    },
    "outcomes": [
        {
            "metric": "appointments_completed",
            "unit": "count",
            "description": "Video visits held",
            "reports": [{"period": "2026-Q1", "value": 120.0, "reported_at": CREATED}],
        }
    ],
    "transparency": {
        "opt_ins": 3,
        "active_consents": 2,
        "revocations": 1,
        "expiries": 0,
        "complaints": {"total": 1, "open": 0, "resolved": 1, "median_days_to_resolve": 2.5},
    },
}
PUBLIC_RATING = {"stars": 4, "comment": "Quick.", "verified": True, "updated_at": CREATED}
RATING = {
    "id": "rat_1",
    "service": SERVICE_REF,
    "stars": 4,
    "comment": "Quick.",
    "verified": True,
    "created_at": CREATED,
    "updated_at": CREATED,
}
COMPLAINT = {
    "id": "cmp_1",
    "service": SERVICE_REF,
    "release_id": "rel_1",
    "category": "privacy",
    "description": "It asked for more than it said.",
    "status": "open",
    "resolution": None,
    "created_at": CREATED,
    "resolved_at": None,
    "escalated_to_review": False,
    "responses": [],
}
COMPLAINT_RESPONSE = {
    "id": "cmr_1",
    "by": "provider",
    "message": "We are looking into it.",
    "created_at": CREATED,
}
OUTCOME = {
    "id": "out_1",
    "service_id": "svc_1",
    "release_id": "rel_1",
    "period": "2026-Q1",
    "metric": "appointments_completed",
    "value": 120.0,
    "reported_by": "acc_1",
    "reported_at": CREATED,
}
ACCESS = {
    "id": "acc_evt_1",
    "at": CREATED,
    "service": SERVICE_REF,
    "scope": "income.verify",
    "scope_title": "Verify income",
    "tier": "status",
    "purpose": "eligibility_check",
    "purpose_description": "Check eligibility",
    "data_api": {"id": "dapi_1", "name": "HMRC income", "data_owner": "HMRC"},
    "case_reference": "CASE-1",
    "consent_id": "con_1",
}
EXPORT = {
    "format": "govstore-citizen-export/1",
    "exported_at": CREATED,
    "account": {**ACCOUNT, "updated_at": CREATED},
    "sign_ins_and_api_tokens": [
        {
            "id": "tok_1",
            "kind": "api",
            "name": "ci",
            "prefix": "gst_ab12",
            "scopes": ["read"],
            "created_at": CREATED,
            "expires_at": "2026-04-02T03:04:05Z",
            "revoked_at": None,
        }
    ],
    "organisations": [{"id": "org_1", "name": "Acme", "role": "owner"}],
    "consents": [CONSENT],
    "access_log": [ACCESS],
    "ratings": [{k: v for k, v in RATING.items() if k != "verified"}],
    "complaints": [
        {
            **{
                k: v for k, v in COMPLAINT.items() if k not in {"release_id", "escalated_to_review"}
            },
            "responses": [{"by": "provider", "message": "Sorry.", "at": CREATED}],
        }
    ],
}


def page(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(items), "next_cursor": None}


@dataclass
class Case:
    call: Callable[[Any], Any]
    method: str
    path: str
    body: Any
    answer: Any
    result: type | None
    creates: bool = False
    status: int = 200
    paginated: bool = False
    params: dict[str, str] | None = None


CASES: dict[str, Case] = {
    "accounts.register": Case(
        lambda c: c.accounts.register("p@example.test", "pw", "P", "provider"),
        "POST",
        "/v1/accounts",
        {"email": "p@example.test", "password": "pw", "display_name": "P", "role": "provider"},
        ACCOUNT,
        govstore.Account,
        creates=True,
        status=201,
    ),
    "auth.login": Case(
        lambda c: c.auth.login("p@example.test", "pw"),
        "POST",
        "/v1/auth/login",
        {"email": "p@example.test", "password": "pw"},
        {"access_token": "t", "token_type": "Bearer", "expires_in": 3600},
        govstore.LoginResult,
    ),
    "auth.logout": Case(
        lambda c: c.auth.logout(), "POST", "/v1/auth/logout", None, None, None, status=204
    ),
    "account.get": Case(
        lambda c: c.account.get(), "GET", "/v1/account", None, ACCOUNT, govstore.Account
    ),
    "account.api_tokens.create": Case(
        lambda c: c.account.api_tokens.create(
            "ci", 90, [govstore.ApiTokenScope.READ, "services:write"]
        ),
        "POST",
        "/v1/account/api-tokens",
        {"name": "ci", "expires_in_days": 90, "scopes": ["read", "services:write"]},
        API_TOKEN,
        govstore.ApiToken,
        creates=True,
        status=201,
    ),
    "account.api_tokens.list": Case(
        lambda c: c.account.api_tokens.list(),
        "GET",
        "/v1/account/api-tokens",
        None,
        page(API_TOKEN),
        govstore.ApiToken,
        paginated=True,
    ),
    "account.api_tokens.revoke": Case(
        lambda c: c.account.api_tokens.revoke("tok_1"),
        "DELETE",
        "/v1/account/api-tokens/tok_1",
        None,
        None,
        None,
        status=204,
    ),
    "admin.set_roles": Case(
        lambda c: c.admin.set_roles("acc_1", ["reviewer", "admin"]),
        "POST",
        "/v1/admin/accounts/acc_1/roles",
        {"roles": ["reviewer", "admin"]},
        ACCOUNT,
        govstore.Account,
    ),
    "admin.accounts.list": Case(
        lambda c: c.admin.accounts.list(),
        "GET",
        "/v1/admin/accounts",
        None,
        page(ACCOUNT),
        govstore.Account,
        paginated=True,
    ),
    "admin.accounts.list by role": Case(
        lambda c: c.admin.accounts.list(role="reviewer", limit=5),
        "GET",
        "/v1/admin/accounts",
        None,
        page(ACCOUNT),
        govstore.Account,
        paginated=True,
        params={"role": "reviewer", "limit": "5"},
    ),
    "admin.data_apis.list": Case(
        lambda c: c.admin.data_apis.list(),
        "GET",
        "/v1/admin/data-apis",
        None,
        page({k: v for k, v in DATA_API.items() if k != "client_secret"}),
        govstore.DataApiCredentials,
        paginated=True,
    ),
    "admin.data_apis.create": Case(
        lambda c: c.admin.data_apis.create("HMRC income", "HMRC"),
        "POST",
        "/v1/admin/data-apis",
        {"name": "HMRC income", "data_owner": "HMRC"},
        DATA_API,
        govstore.DataApiCredentials,
        creates=True,
        status=201,
    ),
    "guidelines.create": Case(
        lambda c: c.guidelines.create("2026.1", "First", [govstore.Guideline(**GUIDELINE)]),
        "POST",
        "/v1/guidelines",
        {"version": "2026.1", "title": "First", "guidelines": [GUIDELINE]},
        GUIDELINE_VERSION,
        govstore.GuidelineVersion,
        creates=True,
        status=201,
    ),
    "guidelines.create with dicts": Case(
        lambda c: c.guidelines.create("2026.1", "First", [GUIDELINE]),
        "POST",
        "/v1/guidelines",
        {"version": "2026.1", "title": "First", "guidelines": [GUIDELINE]},
        GUIDELINE_VERSION,
        govstore.GuidelineVersion,
        creates=True,
        status=201,
    ),
    "guidelines.revise": Case(
        lambda c: c.guidelines.revise("2026.1", "Second", [govstore.Guideline(**GUIDELINE)]),
        "PUT",
        "/v1/guidelines/2026.1",
        {"title": "Second", "guidelines": [GUIDELINE]},
        {**GUIDELINE_VERSION, "title": "Second"},
        govstore.GuidelineVersion,
    ),
    "guidelines.publish": Case(
        lambda c: c.guidelines.publish("2026.1"),
        "POST",
        "/v1/guidelines/2026.1/publish",
        None,
        {**GUIDELINE_VERSION, "status": "published", "published_at": CREATED},
        govstore.GuidelineVersion,
    ),
    "guidelines.list": Case(
        lambda c: c.guidelines.list(),
        "GET",
        "/v1/guidelines",
        None,
        page(GUIDELINE_VERSION_SUMMARY),
        govstore.GuidelineVersionSummary,
        paginated=True,
    ),
    "guidelines.current": Case(
        lambda c: c.guidelines.current(),
        "GET",
        "/v1/guidelines/current",
        None,
        GUIDELINE_VERSION,
        govstore.GuidelineVersion,
    ),
    "guidelines.get": Case(
        lambda c: c.guidelines.get("2026.1"),
        "GET",
        "/v1/guidelines/2026.1",
        None,
        GUIDELINE_VERSION,
        govstore.GuidelineVersion,
    ),
    "schemas.service_manifest": Case(
        lambda c: c.schemas.service_manifest(),
        "GET",
        "/v1/schemas/service-manifest",
        None,
        SCHEMA,
        dict,
    ),
    "scopes.create": Case(
        lambda c: c.scopes.create(**SCOPE),
        "POST",
        "/v1/scopes",
        SCOPE,
        SCOPE_OUT,
        govstore.Scope,
        creates=True,
        status=201,
    ),
    "scopes.list": Case(
        lambda c: c.scopes.list(),
        "GET",
        "/v1/scopes",
        None,
        page(SCOPE_OUT),
        govstore.Scope,
        paginated=True,
    ),
    "scopes.list filtered": Case(
        lambda c: c.scopes.list(tier="status", data_owner="HMRC"),
        "GET",
        "/v1/scopes",
        None,
        page(SCOPE_OUT),
        govstore.Scope,
        paginated=True,
        params={"tier": "status", "data_owner": "HMRC"},
    ),
    "kitemark_schemes.create": Case(
        lambda c: c.kitemark_schemes.create(**SCHEME),
        "POST",
        "/v1/kitemark-schemes",
        SCHEME,
        SCHEME_OUT,
        govstore.KitemarkScheme,
        creates=True,
        status=201,
    ),
    "kitemark_schemes.list": Case(
        lambda c: c.kitemark_schemes.list(),
        "GET",
        "/v1/kitemark-schemes",
        None,
        page(SCHEME_OUT),
        govstore.KitemarkScheme,
        paginated=True,
    ),
    "organisations.create": Case(
        lambda c: c.organisations.create("Acme", "hello@acme.test", company_number="01234567"),
        "POST",
        "/v1/organisations",
        {"name": "Acme", "contact_email": "hello@acme.test", "company_number": "01234567"},
        ORGANISATION,
        govstore.Organisation,
        creates=True,
        status=201,
    ),
    "organisations.create without company number": Case(
        lambda c: c.organisations.create("Acme", "hello@acme.test"),
        "POST",
        "/v1/organisations",
        {"name": "Acme", "contact_email": "hello@acme.test"},
        ORGANISATION,
        govstore.Organisation,
        creates=True,
        status=201,
    ),
    "organisations.get": Case(
        lambda c: c.organisations.get("org_1"),
        "GET",
        "/v1/organisations/org_1",
        None,
        ORGANISATION,
        govstore.Organisation,
    ),
    "organisations.list": Case(
        lambda c: c.organisations.list(),
        "GET",
        "/v1/organisations",
        None,
        page(ORGANISATION_SUMMARY),
        govstore.OrganisationSummary,
        paginated=True,
    ),
    "organisations.add_member": Case(
        lambda c: c.organisations.add_member("org_1", "d@example.test", "developer"),
        "POST",
        "/v1/organisations/org_1/members",
        {"email": "d@example.test", "role": "developer"},
        ORGANISATION,
        govstore.Organisation,
        creates=True,
        status=201,
    ),
    "services.create": Case(
        lambda c: c.services.create("org_1", "acme-gp", "Acme GP Online"),
        "POST",
        "/v1/organisations/org_1/services",
        {"slug": "acme-gp", "name": "Acme GP Online"},
        SERVICE,
        govstore.Service,
        creates=True,
        status=201,
    ),
    "services.get": Case(
        lambda c: c.services.get("svc_1"),
        "GET",
        "/v1/services/svc_1",
        None,
        PROVIDER_SERVICE,
        govstore.ProviderService,
    ),
    "services.suspend": Case(
        lambda c: c.services.suspend("svc_1", "Data misuse reported"),
        "POST",
        "/v1/services/svc_1/suspend",
        {"reason": "Data misuse reported"},
        {**RELEASE, "status": "suspended"},
        govstore.Release,
    ),
    "services.reinstate": Case(
        lambda c: c.services.reinstate("svc_1", "Investigation closed"),
        "POST",
        "/v1/services/svc_1/reinstate",
        {"reason": "Investigation closed"},
        {**RELEASE, "status": "published"},
        govstore.Release,
    ),
    "services.oauth_client.get": Case(
        lambda c: c.services.oauth_client.get("svc_1"),
        "GET",
        "/v1/services/svc_1/oauth-client",
        None,
        OAUTH_CLIENT,
        govstore.OAuthClientRegistration,
    ),
    "services.oauth_client.rotate_secret": Case(
        lambda c: c.services.oauth_client.rotate_secret("svc_1"),
        "POST",
        "/v1/services/svc_1/oauth-client",
        None,
        {"client_id": "gsc_1", "client_secret": "gss_new"},
        govstore.OAuthClientCredentials,
    ),
    "kitemarks.list": Case(
        lambda c: c.kitemarks.list("svc_1", limit=5),
        "GET",
        "/v1/services/svc_1/kitemarks",
        None,
        page(KITEMARK),
        govstore.Kitemark,
        paginated=True,
        params={"limit": "5"},
    ),
    "kitemarks.status": Case(
        lambda c: c.kitemarks.status("kmk_1"),
        "GET",
        "/v1/kitemarks/kmk_1/status",
        None,
        KITEMARK_STATUS,
        govstore.KitemarkStatus,
    ),
    "kitemarks.suspend": Case(
        lambda c: c.kitemarks.suspend("kmk_1", "Evidence withdrawn"),
        "POST",
        "/v1/kitemarks/kmk_1/suspend",
        {"reason": "Evidence withdrawn"},
        {**KITEMARK, "status": "suspended", "valid": False, "status_reason": "Evidence withdrawn"},
        govstore.Kitemark,
    ),
    "kitemarks.revoke": Case(
        lambda c: c.kitemarks.revoke("kmk_1", "Fraudulent evidence"),
        "POST",
        "/v1/kitemarks/kmk_1/revoke",
        {"reason": "Fraudulent evidence"},
        {**KITEMARK, "status": "revoked", "valid": False},
        govstore.Kitemark,
    ),
    "kitemarks.reinstate": Case(
        lambda c: c.kitemarks.reinstate("kmk_1", "Evidence restored"),
        "POST",
        "/v1/kitemarks/kmk_1/reinstate",
        {"reason": "Evidence restored"},
        KITEMARK,
        govstore.Kitemark,
    ),
    "scope_grants.revoke": Case(
        lambda c: c.scope_grants.revoke("sgr_1", "No longer needed"),
        "POST",
        "/v1/scope-grants/sgr_1/revoke",
        {"reason": "No longer needed"},
        {**SCOPE_GRANT, "status": "revoked", "status_reason": "No longer needed"},
        govstore.ScopeGrant,
    ),
    "well_known.jwks": Case(
        lambda c: c.well_known.jwks(), "GET", "/.well-known/jwks.json", None, JWKS, govstore.Jwks
    ),
    "well_known.oauth_metadata": Case(
        lambda c: c.well_known.oauth_metadata(),
        "GET",
        "/.well-known/oauth-authorization-server",
        None,
        METADATA,
        govstore.OAuthServerMetadata,
    ),
    "me.consents.list": Case(
        lambda c: c.me.consents.list(),
        "GET",
        "/v1/me/consents",
        None,
        page(CONSENT),
        govstore.Consent,
        paginated=True,
    ),
    "me.consents.get": Case(
        lambda c: c.me.consents.get("con_1"),
        "GET",
        "/v1/me/consents/con_1",
        None,
        CONSENT,
        govstore.Consent,
    ),
    "me.consents.update": Case(
        lambda c: c.me.consents.update(
            "con_1",
            scopes=("income.verify",),
            expires_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        ),
        "PATCH",
        "/v1/me/consents/con_1",
        {"scopes": ["income.verify"], "expires_at": "2026-03-01T12:00:00+00:00"},
        {**CONSENT, "expires_at": "2026-03-01T12:00:00Z"},
        govstore.Consent,
    ),
    "me.consents.update scopes only": Case(
        lambda c: c.me.consents.update("con_1", scopes=[]),
        "PATCH",
        "/v1/me/consents/con_1",
        {"scopes": []},
        CONSENT,
        govstore.Consent,
    ),
    "me.consents.revoke": Case(
        lambda c: c.me.consents.revoke("con_1"),
        "DELETE",
        "/v1/me/consents/con_1",
        None,
        {**CONSENT, "status": "revoked", "ended_at": CREATED, "end_reason": "revoked by you"},
        govstore.Consent,
    ),
    "me.consents.receipt": Case(
        lambda c: c.me.consents.receipt("con_1"),
        "GET",
        "/v1/me/consents/con_1/receipt",
        None,
        RECEIPT,
        govstore.ConsentReceipt,
    ),
    "catalogue.search": Case(
        lambda c: c.catalogue.search(),
        "GET",
        "/v1/catalogue/services",
        None,
        page(LISTING),
        govstore.Listing,
        paginated=True,
    ),
    "catalogue.search filtered": Case(
        lambda c: c.catalogue.search(
            "gp video",
            category="health",
            kitemark="privacy-assured",
            scope="income.verify",
            sort=govstore.SearchSort.NEWEST,
            limit=5,
        ),
        "GET",
        "/v1/catalogue/services",
        None,
        page(LISTING),
        govstore.Listing,
        paginated=True,
        params={
            "q": "gp video",
            "category": "health",
            "kitemark": "privacy-assured",
            "scope": "income.verify",
            "sort": "newest",
            "limit": "5",
        },
    ),
    "catalogue.get": Case(
        lambda c: c.catalogue.get("acme-gp"),
        "GET",
        "/v1/catalogue/services/acme-gp",
        None,
        SERVICE_PAGE,
        govstore.ServicePage,
    ),
    "catalogue.ratings": Case(
        lambda c: c.catalogue.ratings("acme-gp", limit=10),
        "GET",
        "/v1/catalogue/services/acme-gp/ratings",
        None,
        page(PUBLIC_RATING),
        govstore.PublicRating,
        paginated=True,
        params={"limit": "10"},
    ),
    "catalogue.rate": Case(
        lambda c: c.catalogue.rate("acme-gp", 4, comment="Quick."),
        "POST",
        "/v1/catalogue/services/acme-gp/ratings",
        {"stars": 4, "comment": "Quick."},
        RATING,
        govstore.Rating,
        creates=True,
        status=201,
    ),
    "catalogue.rate again, without a comment": Case(
        lambda c: c.catalogue.rate("acme-gp", 5),
        "POST",
        "/v1/catalogue/services/acme-gp/ratings",
        {"stars": 5},
        {**RATING, "stars": 5, "comment": None},
        govstore.Rating,
        creates=True,
        status=200,
    ),
    "catalogue.complain": Case(
        lambda c: c.catalogue.complain(
            "acme-gp", govstore.ComplaintCategory.PRIVACY, "It asked for more than it said."
        ),
        "POST",
        "/v1/catalogue/services/acme-gp/complaints",
        {"category": "privacy", "description": "It asked for more than it said."},
        COMPLAINT,
        govstore.Complaint,
        creates=True,
        status=201,
    ),
    "complaints.list": Case(
        lambda c: c.complaints.list("svc_1"),
        "GET",
        "/v1/services/svc_1/complaints",
        None,
        page(COMPLAINT),
        govstore.Complaint,
        paginated=True,
    ),
    "complaints.list by status": Case(
        lambda c: c.complaints.list("svc_1", status=govstore.ComplaintStatus.OPEN, limit=5),
        "GET",
        "/v1/services/svc_1/complaints",
        None,
        page(COMPLAINT),
        govstore.Complaint,
        paginated=True,
        params={"status": "open", "limit": "5"},
    ),
    "complaints.get": Case(
        lambda c: c.complaints.get("cmp_1"),
        "GET",
        "/v1/complaints/cmp_1",
        None,
        COMPLAINT,
        govstore.Complaint,
    ),
    "complaints.respond": Case(
        lambda c: c.complaints.respond("cmp_1", "We are looking into it."),
        "POST",
        "/v1/complaints/cmp_1/responses",
        {"message": "We are looking into it."},
        {**COMPLAINT, "status": "responded", "responses": [COMPLAINT_RESPONSE]},
        govstore.Complaint,
        creates=True,
        status=201,
    ),
    "complaints.resolve": Case(
        lambda c: c.complaints.resolve("cmp_1", "We no longer ask for it."),
        "POST",
        "/v1/complaints/cmp_1/resolve",
        {"resolution": "We no longer ask for it."},
        {
            **COMPLAINT,
            "status": "resolved",
            "resolution": "We no longer ask for it.",
            "resolved_at": CREATED,
        },
        govstore.Complaint,
    ),
    "services.report_outcome": Case(
        lambda c: c.services.report_outcome("svc_1", "2026-Q1", "appointments_completed", 120),
        "POST",
        "/v1/services/svc_1/outcomes",
        {"period": "2026-Q1", "metric": "appointments_completed", "value": 120},
        OUTCOME,
        govstore.OutcomeReport,
        creates=True,
        status=201,
    ),
    "services.outcomes": Case(
        lambda c: c.services.outcomes("svc_1"),
        "GET",
        "/v1/services/svc_1/outcomes",
        None,
        page(OUTCOME),
        govstore.OutcomeReport,
        paginated=True,
    ),
    "services.outcomes of one metric": Case(
        lambda c: c.services.outcomes("svc_1", metric="appointments_completed", limit=5),
        "GET",
        "/v1/services/svc_1/outcomes",
        None,
        page(OUTCOME),
        govstore.OutcomeReport,
        paginated=True,
        params={"metric": "appointments_completed", "limit": "5"},
    ),
    "me.complaints": Case(
        lambda c: c.me.complaints(),
        "GET",
        "/v1/me/complaints",
        None,
        page(COMPLAINT),
        govstore.Complaint,
        paginated=True,
    ),
    "me.transparency": Case(
        lambda c: c.me.transparency(limit=10),
        "GET",
        "/v1/me/transparency",
        None,
        page(LOG_ENTRY),
        govstore.TransparencyEntry,
        paginated=True,
        params={"limit": "10"},
    ),
    "transparency.tree_head": Case(
        lambda c: c.transparency.tree_head(),
        "GET",
        "/v1/transparency/tree-head",
        None,
        TREE_HEAD,
        govstore.TreeHead,
    ),
    "transparency.entries": Case(
        lambda c: c.transparency.entries(0, 3),
        "GET",
        "/v1/transparency/entries",
        None,
        {"tree_size": 3, "items": [LOG_ENTRY]},
        govstore.TransparencyEntries,
        params={"start": "0", "end": "3"},
    ),
    "transparency.entries from": Case(
        lambda c: c.transparency.entries(2),
        "GET",
        "/v1/transparency/entries",
        None,
        {"tree_size": 3, "items": [LOG_ENTRY]},
        govstore.TransparencyEntries,
        params={"start": "2"},
    ),
    "transparency.inclusion_proof": Case(
        lambda c: c.transparency.inclusion_proof(2, 3),
        "GET",
        "/v1/transparency/proofs/inclusion",
        None,
        {"leaf_index": 2, "tree_size": 3, "audit_path": ["bGVhZg=="]},
        govstore.InclusionProof,
        params={"leaf_index": "2", "tree_size": "3"},
    ),
    "transparency.consistency_proof": Case(
        lambda c: c.transparency.consistency_proof(1, 3),
        "GET",
        "/v1/transparency/proofs/consistency",
        None,
        {"first": 1, "second": 3, "proof": ["bGVhZg==", "bm9kZQ=="]},
        govstore.ConsistencyProof,
        params={"first": "1", "second": "3"},
    ),
    "me.access_log": Case(
        lambda c: c.me.access_log(),
        "GET",
        "/v1/me/access-log",
        None,
        page(ACCESS),
        govstore.AccessLogEntry,
        paginated=True,
    ),
    "me.access_log filtered": Case(
        lambda c: c.me.access_log(
            service="acme-gp",
            since=datetime(2026, 1, 1, tzinfo=UTC),
            until=datetime(2026, 2, 1, tzinfo=UTC),
            limit=50,
        ),
        "GET",
        "/v1/me/access-log",
        None,
        page(ACCESS),
        govstore.AccessLogEntry,
        paginated=True,
        params={
            "service": "acme-gp",
            "since": "2026-01-01T00:00:00+00:00",
            "until": "2026-02-01T00:00:00+00:00",
            "limit": "50",
        },
    ),
    "me.export": Case(
        lambda c: c.me.export(), "GET", "/v1/me/export", None, EXPORT, govstore.CitizenExport
    ),
    "me.erase": Case(
        lambda c: c.me.erase("a long enough passphrase"),
        "DELETE",
        "/v1/me",
        {"password": "a long enough passphrase"},
        None,
        None,
        status=204,
    ),
    "services.list": Case(
        lambda c: c.services.list("org_1"),
        "GET",
        "/v1/organisations/org_1/services",
        None,
        page(SERVICE),
        govstore.Service,
        paginated=True,
    ),
    "releases.submit": Case(
        lambda c: c.releases.submit("svc_1", {"name": "Acme GP Online"}),
        "POST",
        "/v1/services/svc_1/releases",
        {"manifest": {"name": "Acme GP Online"}},
        RELEASE,
        govstore.Release,
        creates=True,
        status=201,
    ),
    "releases.get": Case(
        lambda c: c.releases.get("svc_1", "rel_1"),
        "GET",
        "/v1/services/svc_1/releases/rel_1",
        None,
        RELEASE_DETAIL,
        govstore.ReleaseDetail,
    ),
    "releases.appeal": Case(
        lambda c: c.releases.appeal("svc_1", "rel_1", "The purpose is stated in full."),
        "POST",
        "/v1/services/svc_1/releases/rel_1/appeal",
        {"reason": "The purpose is stated in full."},
        RELEASE_DETAIL,
        govstore.ReleaseDetail,
    ),
    "releases.list": Case(
        lambda c: c.releases.list("svc_1"),
        "GET",
        "/v1/services/svc_1/releases",
        None,
        page(RELEASE_SUMMARY),
        govstore.ReleaseSummary,
        paginated=True,
    ),
    "releases.withdraw": Case(
        lambda c: c.releases.withdraw("svc_1", "rel_1"),
        "POST",
        "/v1/services/svc_1/releases/rel_1/withdraw",
        {},
        {**RELEASE, "status": "withdrawn"},
        govstore.Release,
    ),
    "releases.withdraw with a reason": Case(
        lambda c: c.releases.withdraw("svc_1", "rel_1", reason="Wrong retention"),
        "POST",
        "/v1/services/svc_1/releases/rel_1/withdraw",
        {"reason": "Wrong retention"},
        {**RELEASE, "status": "withdrawn"},
        govstore.Release,
    ),
    "checks.list": Case(
        lambda c: c.checks.list(),
        "GET",
        "/v1/checks",
        None,
        page(CHECK),
        govstore.Check,
        paginated=True,
    ),
    "review.queue": Case(
        lambda c: c.review.queue(limit=10),
        "GET",
        "/v1/review/queue",
        None,
        page(QUEUE_ITEM),
        govstore.QueueItem,
        paginated=True,
        params={"limit": "10"},
    ),
    "review.get": Case(
        lambda c: c.review.get("rel_1"),
        "GET",
        "/v1/review/releases/rel_1",
        None,
        REVIEWER_RELEASE,
        govstore.ReviewerRelease,
    ),
    "review.claim": Case(
        lambda c: c.review.claim("rel_1"),
        "POST",
        "/v1/review/releases/rel_1/claim",
        None,
        CLAIM,
        govstore.Claim,
    ),
    "review.release_claim": Case(
        lambda c: c.review.release_claim("rel_1"),
        "DELETE",
        "/v1/review/releases/rel_1/claim",
        None,
        None,
        None,
        status=204,
    ),
    "review.decide": Case(
        lambda c: c.review.decide(
            "rel_1",
            govstore.DecisionOutcome.APPROVE,
            [
                govstore.FindingInput(code="PRIV-1", result=govstore.FindingResult.PASS),
                {"code": "ACC-1", "result": "pass"},
            ],
            kitemarks=["privacy-assured"],
            scopes=("income.verify",),
            note="Clear and minimal.",
        ),
        "POST",
        "/v1/review/releases/rel_1/decision",
        {
            "outcome": "approve",
            "findings": PASS_ALL,
            "kitemarks": ["privacy-assured"],
            "scopes": ["income.verify"],
            "note": "Clear and minimal.",
        },
        DECISION,
        govstore.Decision,
    ),
    "review.decide with defaults": Case(
        lambda c: c.review.decide(
            "rel_1",
            "reject",
            [
                govstore.FindingInput(code="PRIV-1", result="fail", note="Purpose too vague"),
                {"code": "ACC-1", "result": "pass"},
            ],
        ),
        "POST",
        "/v1/review/releases/rel_1/decision",
        {
            "outcome": "reject",
            "findings": [
                {"code": "PRIV-1", "result": "fail", "note": "Purpose too vague"},
                {"code": "ACC-1", "result": "pass"},
            ],
            "kitemarks": [],
            "scopes": [],
        },
        {**DECISION, "outcome": "reject", "reason_codes": ["PRIV-1"], "kitemarks": []},
        govstore.Decision,
    ),
    "review.second_approval": Case(
        lambda c: c.review.second_approval("rel_1"),
        "POST",
        "/v1/review/releases/rel_1/second-approval",
        {"outcome": "approve"},
        {**DECISION, "needs_second_approval": True, "second_outcome": "approve"},
        govstore.Decision,
    ),
    "review.second_approval overturned": Case(
        lambda c: c.review.second_approval(
            "rel_1", govstore.DecisionOutcome.REQUEST_CHANGES, note="Retention too long"
        ),
        "POST",
        "/v1/review/releases/rel_1/second-approval",
        {"outcome": "request_changes", "note": "Retention too long"},
        {**DECISION, "needs_second_approval": True, "second_outcome": "request_changes"},
        govstore.Decision,
    ),
    "organisations.webhook.set": Case(
        lambda c: c.organisations.webhook.set("org_1", "https://acme.test/hooks"),
        "PUT",
        "/v1/organisations/org_1/webhook",
        {"url": "https://acme.test/hooks"},
        {**WEBHOOK, "secret": "whsec_generated"},
        govstore.Webhook,
    ),
    "organisations.webhook.set with a secret": Case(
        lambda c: c.organisations.webhook.set(
            "org_1", "https://acme.test/hooks", secret="a-secret-of-twenty-four-chars"
        ),
        "PUT",
        "/v1/organisations/org_1/webhook",
        {"url": "https://acme.test/hooks", "secret": "a-secret-of-twenty-four-chars"},
        WEBHOOK,
        govstore.Webhook,
    ),
    "organisations.webhook.get": Case(
        lambda c: c.organisations.webhook.get("org_1"),
        "GET",
        "/v1/organisations/org_1/webhook",
        None,
        WEBHOOK,
        govstore.Webhook,
    ),
    "organisations.webhook.delete": Case(
        lambda c: c.organisations.webhook.delete("org_1"),
        "DELETE",
        "/v1/organisations/org_1/webhook",
        None,
        None,
        None,
        status=204,
    ),
    "organisations.webhook.deliveries": Case(
        lambda c: c.organisations.webhook.deliveries("org_1"),
        "GET",
        "/v1/organisations/org_1/webhook/deliveries",
        None,
        page(DELIVERY),
        govstore.WebhookDelivery,
        paginated=True,
    ),
    "organisations.webhook.deliveries by status": Case(
        lambda c: c.organisations.webhook.deliveries(
            "org_1", status=govstore.DeliveryStatus.FAILED, limit=5
        ),
        "GET",
        "/v1/organisations/org_1/webhook/deliveries",
        None,
        page({**DELIVERY, "status": "failed", "delivered_at": None}),
        govstore.WebhookDelivery,
        paginated=True,
        params={"status": "failed", "limit": "5"},
    ),
}


def server_for(case: Case) -> MockServer:
    if case.answer is None:
        return MockServer(httpx.Response(case.status))
    return MockServer(httpx.Response(case.status, json=case.answer))


def check_request(case: Case, server: MockServer) -> None:
    assert len(server.requests) == 1
    request = server.last
    assert request.method == case.method
    assert request.url.path == case.path
    assert dict(request.url.params) == (case.params or {})
    if case.body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert server.body() == case.body
    assert ("Idempotency-Key" in request.headers) is case.creates


def check_result(case: Case, result: Any) -> None:
    if case.result is None:
        assert result is None
    elif case.paginated:
        assert [type(item) for item in result] == [case.result]
    else:
        assert isinstance(result, case.result)


@pytest.mark.parametrize("name", CASES)
def test_sync_call(name: str) -> None:
    case = CASES[name]
    server = server_for(case)

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        result = case.call(client)
        if case.paginated:
            result = list(result)

    check_request(case, server)
    check_result(case, result)


@pytest.mark.parametrize("name", CASES)
async def test_async_call(name: str) -> None:
    case = CASES[name]
    server = server_for(case)

    async with govstore.AsyncClient(
        base_url=BASE_URL, token="t", transport=server.transport
    ) as client:
        if case.paginated:
            result: Any = [item async for item in case.call(client)]
        else:
            result = await case.call(client)

    check_request(case, server)
    check_result(case, result)


def test_every_resource_method_is_covered() -> None:
    with govstore.Client() as client:
        methods = {f"{path}.{name}" for path, _, name, _ in resource_methods(client)}
    covered = {name.split(" ")[0] for name in CASES}
    # Helpers (`releases.wait`) call covered methods; tests of their own are in test_wait.py.
    assert methods - HELPERS == covered


def test_ids_are_escaped_in_paths() -> None:
    server = MockServer(httpx.Response(200, json=ORGANISATION))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        client.organisations.get("../admin?x=1")

    assert server.last.url.raw_path == b"/v1/organisations/..%2Fadmin%3Fx%3D1"


def test_invalid_manifest_raises_with_every_pointer() -> None:
    server = MockServer(
        httpx.Response(
            422,
            headers={"Content-Type": "application/problem+json"},
            json={
                "type": "about:blank",
                "title": "Invalid content",
                "status": 422,
                "detail": "2 fields failed validation",
                "errors": [
                    {"pointer": "/manifest/category", "detail": "not one of the categories"},
                    {"pointer": "/manifest/support_email", "detail": "required"},
                ],
            },
        )
    )

    client = govstore.Client(base_url=BASE_URL, transport=server.transport)
    with client, pytest.raises(govstore.UnprocessableEntityError) as raised:
        client.releases.submit("svc_1", {"category": "toys"})

    assert [e.pointer for e in raised.value.errors] == [
        "/manifest/category",
        "/manifest/support_email",
    ]


# The sync and async surfaces


def resource_methods(client: Any) -> list[tuple[str, Resource[Any], str, Callable[..., Any]]]:
    """(resource path, resource, method name, bound method) for every call a client offers."""
    found = []

    def walk(path: str, resource: Resource[Any]) -> None:
        for name in dir(resource):
            if name.startswith("_"):
                continue
            attribute = getattr(resource, name)
            if isinstance(attribute, Resource):
                walk(f"{path}.{name}", attribute)
            elif callable(attribute):
                found.append((path, resource, name, attribute))

    for name, attribute in vars(client).items():
        if isinstance(attribute, Resource):
            walk(name, attribute)
    return sorted(found, key=lambda entry: (entry[0], entry[2]))


def test_sync_and_async_clients_expose_the_same_methods() -> None:
    with govstore.Client() as sync_client:
        sync_methods = resource_methods(sync_client)
    async_methods = resource_methods(govstore.AsyncClient())

    assert [(p, n) for p, _, n, _ in sync_methods] == [(p, n) for p, _, n, _ in async_methods]
    assert len(sync_methods) == len(ROUTES) + len(HELPERS)
    for (path, _, name, sync_method), (_, _, _, async_method) in zip(
        sync_methods, async_methods, strict=True
    ):
        where = f"{path}.{name}"
        assert inspect.signature(sync_method) == inspect.signature(async_method), where
        assert sync_method.__doc__ and sync_method.__doc__ == async_method.__doc__, where
        assert not inspect.iscoroutinefunction(sync_method), where
        if where in {c for c, case in CASES.items() if case.paginated}:
            assert not inspect.iscoroutinefunction(async_method), where
        else:
            assert inspect.iscoroutinefunction(async_method), where


def test_both_clients_have_the_same_public_attributes() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    with govstore.Client() as client:
        sync_attributes = public(type(client)) | set(vars(client))
    async_attributes = public(govstore.AsyncClient) | set(vars(govstore.AsyncClient()))

    assert sync_attributes - {"close"} == async_attributes - {"aclose"}


# The route table the server's tests check against the OpenAPI document


def test_every_route_names_a_method_and_every_method_has_a_route() -> None:
    with govstore.Client() as client:
        methods = {f"{path}.{name}" for path, _, name, _ in resource_methods(client)}

    assert sorted(ROUTES.values()) == sorted(methods - HELPERS)
    assert methods >= HELPERS
    assert not HELPERS & set(ROUTES.values())


@pytest.mark.parametrize("name", CASES)
def test_each_method_sends_the_request_its_route_names(name: str) -> None:
    case = CASES[name]
    routes = [route for route, method in ROUTES.items() if method == name.split(" ")[0]]
    assert len(routes) == 1, routes
    http_method, template = routes[0]
    pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template))

    assert case.method == http_method
    assert re.fullmatch(pattern, case.path), (case.path, template)


def test_logout_forgets_the_token() -> None:
    server = MockServer(httpx.Response(204))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        client.auth.logout()
        assert client.token is None

    assert server.last.headers["Authorization"] == "Bearer t"


def test_the_provider_view_of_a_service_is_still_a_service() -> None:
    server = MockServer(httpx.Response(200, json=PROVIDER_SERVICE))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        service = client.services.get("svc_1")

    assert isinstance(service, govstore.Service)
    assert service.oauth_client_id == "gsc_1"
    assert service.kitemarks[0].status == govstore.GrantStatus.ACTIVE
    assert service.kitemarks[0].evidence == [govstore.KitemarkEvidence(**EVIDENCE)]
    assert service.scope_grants[0].scope == "income.verify"


def test_a_service_before_approval_has_no_grants_or_client() -> None:
    answer = {**SERVICE, "kitemarks": [], "scope_grants": [], "oauth_client_id": None}
    server = MockServer(httpx.Response(200, json=answer))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        service = client.services.get("svc_1")

    assert (service.kitemarks, service.scope_grants, service.oauth_client_id) == ([], [], None)


def test_a_consent_reads_its_service_and_uses() -> None:
    server = MockServer(httpx.Response(200, json=CONSENT))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        consent = client.me.consents.get("con_1")

    assert consent.status == govstore.ConsentStatus.ACTIVE
    assert consent.service == govstore.ServiceRef(id="svc_1", slug="acme-gp", name="Acme GP Online")
    assert consent.uses[0].tier == "status" and consent.uses[0].retention_days == 30


def test_a_consent_update_needs_an_aware_expiry() -> None:
    server = MockServer()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        with pytest.raises(ValueError, match="timezone-aware"):
            client.me.consents.update("con_1", expires_at=datetime(2026, 3, 1))
        with pytest.raises(TypeError, match="list of scope names"):
            client.me.consents.update("con_1", scopes="income.verify")

    assert server.requests == []


def test_rotating_the_oauth_secret_is_not_replayed_after_a_broken_connection(
    sleeps: list[float],
) -> None:
    # A replayed rotation would issue a second secret and lose the first: the POST carries
    # no Idempotency-Key, so only a connection refused before sending is retried.
    server = MockServer(httpx.ReadError("connection reset"))

    client = govstore.Client(base_url=BASE_URL, transport=server.transport)
    with client, pytest.raises(govstore.APIConnectionError):
        client.services.oauth_client.rotate_secret("svc_1")

    assert len(server.requests) == 1
    assert "Idempotency-Key" not in server.last.headers
    assert sleeps == []


# The catalogue, complaints and the citizen's own records


@pytest.mark.parametrize(("status", "replaced"), [(201, False), (200, True)])
def test_a_rating_says_whether_it_replaced_the_callers_earlier_one(
    status: int, replaced: bool
) -> None:
    server = MockServer(httpx.Response(status, json=RATING))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        rating = client.catalogue.rate("acme-gp", 4, "Quick.")

    assert rating.replaced is replaced
    assert rating.service == govstore.ServiceRef(**SERVICE_REF)
    assert (rating.stars, rating.comment, rating.verified) == (4, "Quick.", True)
    assert "replaced" not in rating.model_dump()


@pytest.mark.parametrize(("status", "replaced"), [(201, False), (200, True)])
async def test_a_rating_says_whether_it_replaced_the_callers_earlier_one_async(
    status: int, replaced: bool
) -> None:
    server = MockServer(httpx.Response(status, json=RATING))

    async with govstore.AsyncClient(
        base_url=BASE_URL, token="t", transport=server.transport
    ) as client:
        rating = await client.catalogue.rate("acme-gp", 4)

    assert rating.replaced is replaced
    assert server.body() == {"stars": 4}


def test_a_rating_read_from_json_is_not_marked_replaced() -> None:
    assert govstore.Rating.model_validate(RATING).replaced is False


def test_a_retried_rating_keeps_its_idempotency_key(sleeps: list[float]) -> None:
    # Rating replaces: a replay must be the server's replay of the first answer, not a
    # second rating, so every attempt of one call carries the same key.
    server = MockServer(httpx.ReadError("connection reset"), httpx.Response(201, json=RATING))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        rating = client.catalogue.rate("acme-gp", 4)

    keys = [request.headers["Idempotency-Key"] for request in server.requests]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert rating.replaced is False


def test_a_service_page_reads_every_part() -> None:
    server = MockServer(httpx.Response(200, json=SERVICE_PAGE))

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        service = client.catalogue.get("acme-gp")

    assert "Authorization" not in server.last.headers  # public: no sign-in needed
    assert service.provider == {"id": "org_1", "name": "Acme"}
    assert service.release == {"id": "rel_1", "number": 1}
    assert service.kitemarks[0].status == govstore.GrantStatus.ACTIVE
    assert service.data_uses[0].optional is True and service.data_uses[0].retention_days is None
    assert isinstance(service.ratings, govstore.RatingSummary)
    assert service.ratings.distribution["5"] == 1 and service.ratings.mean == 4.5
    assert service.outcomes[0].reports[0].value == 120.0
    assert service.transparency.complaints.median_days_to_resolve == 2.5
    assert service.listed_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_listing_reads_its_provider_badges_and_rating() -> None:
    listing = govstore.Listing.model_validate(LISTING)

    assert listing.provider == govstore.ProviderRef(id="org_1", name="Acme")
    assert listing.kitemarks[0].scheme == "privacy-assured"
    assert listing.rating == govstore.RatingSummary(count=2, mean=4.5)
    assert (
        govstore.Listing.model_validate(
            {**LISTING, "rating": {"count": 0, "mean": None}}
        ).rating.mean
        is None
    )


def test_a_complaint_reads_its_status_category_and_responses() -> None:
    answer = {**COMPLAINT, "status": "responded", "responses": [COMPLAINT_RESPONSE]}
    server = MockServer(httpx.Response(200, json=answer))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        complaint = client.complaints.get("cmp_1")

    assert complaint.status == govstore.ComplaintStatus.RESPONDED
    assert complaint.category == govstore.ComplaintCategory.PRIVACY
    assert complaint.responses == [govstore.ComplaintResponse(**COMPLAINT_RESPONSE)]
    assert complaint.resolution is None and complaint.resolved_at is None


def test_a_complaint_category_may_be_plain_text() -> None:
    server = MockServer(httpx.Response(201, json=COMPLAINT))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        client.catalogue.complain("acme-gp", "accessibility", "No captions.")

    assert server.body() == {"category": "accessibility", "description": "No captions."}


def test_the_export_reads_every_section() -> None:
    export = govstore.CitizenExport.model_validate(EXPORT)

    assert export.format == "govstore-citizen-export/1"
    assert export.account.email == "p@example.test"
    assert export.sign_ins_and_api_tokens[0].revoked_at is None
    assert export.organisations == [
        govstore.ExportedOrganisation(id="org_1", name="Acme", role="owner")
    ]
    assert export.consents[0].uses[0].scope == "income.verify"
    assert export.access_log[0].data_api.name == "HMRC income"
    assert export.ratings[0].stars == 4
    assert export.complaints[0].responses[0].by == "provider"


def test_the_access_log_needs_aware_times() -> None:
    server = MockServer()

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        with pytest.raises(ValueError, match="since must be timezone-aware"):
            client.me.access_log(since=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="until must be timezone-aware"):
            client.me.access_log(until=datetime(2026, 1, 1))

    assert server.requests == []


def test_access_log_times_keep_their_offset() -> None:
    server = MockServer(httpx.Response(200, json=page(ACCESS)))
    since = datetime.fromisoformat("2026-01-01T09:30:00+01:00")

    with govstore.Client(base_url=BASE_URL, transport=server.transport) as client:
        [entry] = client.me.access_log(since=since)

    assert server.last.url.params["since"] == "2026-01-01T09:30:00+01:00"
    assert b"%2B01%3A00" in server.last.url.raw_path  # "+" is sent escaped, not as a space
    assert entry.case_reference == "CASE-1"


def test_erasing_the_account_forgets_the_token() -> None:
    server = MockServer(httpx.Response(204))

    with govstore.Client(base_url=BASE_URL, token="t", transport=server.transport) as client:
        client.me.erase("a long enough passphrase")
        assert client.token is None

    assert server.last.headers["Authorization"] == "Bearer t"


def test_a_refused_erasure_keeps_the_token() -> None:
    server = MockServer(
        httpx.Response(
            403,
            headers={"Content-Type": "application/problem+json"},
            json={"type": "about:blank", "title": "Forbidden", "status": 403},
        )
    )

    client = govstore.Client(base_url=BASE_URL, token="t", transport=server.transport)
    with client, pytest.raises(govstore.PermissionDeniedError):
        client.me.erase("wrong")

    assert client.token == "t"
