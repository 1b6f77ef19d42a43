"""HTTP API for kitemarks and their credentials, scope grants, OAuth clients, consents and the well-known documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kitemarks import consents, grants
from kitemarks.keys import published_keys
from kitemarks.models import (
    Consent,
    ConsentStatus,
    GrantStatus,
    KitemarkGrant,
    OAuthClient,
    ScopeGrant,
)
from kitemarks.oauth.views import metadata
from marketplace import errors
from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal, hash_token, new_token
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import Tier
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.models import Release, Service
from marketplace.releases.services import visible_service
from marketplace.releases.views import ServiceOut, service_out
from marketplace.routing import Auth, Input, Output, Router

router = Router("kitemarks")
oauth_router = Router("oauth")
me_router = Router("citizen")

CLIENT_SECRET_PREFIX = "gscs_"


class KitemarkOut(Output):
    id: str
    service_id: str
    release_id: str
    scheme: str
    status: GrantStatus = Field(description="a live grant past its expiry reads `expired`")
    valid: bool = Field(description="active, not expired, and the service is published")
    granted_at: datetime
    expires_at: datetime
    status_reason: str | None
    evidence: list[dict[str, Any]] = Field(
        description="per criterion: evidence level claimed and accepted, reference, finding"
    )
    credential: str = Field(description="compact JWS (ES256); keys at /.well-known/jwks.json")
    status_url: str

    @classmethod
    def of(cls, platform: Platform, g: KitemarkGrant, release_status: ReleaseStatus) -> KitemarkOut:
        state = grants.status_of(g, release_status)
        return cls(
            id=g.id,
            service_id=g.service_id,
            release_id=g.release_id,
            scheme=g.scheme,
            status=state.status,
            valid=state.valid,
            granted_at=g.granted_at,
            expires_at=g.expires_at,
            status_reason=g.status_reason,
            evidence=g.evidence,
            credential=g.credential,
            status_url=grants.status_url(platform, g.id),
        )


class KitemarkStatusOut(Output):
    status: GrantStatus
    valid: bool
    expires_at: datetime


class ReasonIn(Input):
    reason: str = Field(min_length=3, max_length=500, pattern=r"\S")


class ScopeGrantOut(Output):
    id: str
    scope: str
    tier: Tier
    status: GrantStatus
    release_id: str
    granted_at: datetime
    status_reason: str | None

    @classmethod
    def of(cls, g: ScopeGrant) -> ScopeGrantOut:
        return cls(
            id=g.id,
            scope=g.scope,
            tier=g.tier,
            status=g.status,
            release_id=g.release_id,
            granted_at=g.granted_at,
            status_reason=g.status_reason,
        )


class ProviderServiceOut(ServiceOut):
    kitemarks: list[KitemarkOut]
    scope_grants: list[ScopeGrantOut]
    oauth_client_id: str | None = Field(description="null until a release is approved")


class OAuthClientOut(Output):
    client_id: str
    redirect_uris: list[str] = Field(description="exactly as in the approved manifest")
    scopes: list[str] = Field(description="the scopes the service holds now")
    has_secret: bool = Field(description="false until the first POST issues one")
    secret_rotated_at: datetime | None


class OAuthClientSecretOut(Output):
    client_id: str
    client_secret: str = Field(description="shown once; store it now")


class ServerMetadataOut(Output):
    """RFC 8414 §2."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    introspection_endpoint: str
    revocation_endpoint: str
    jwks_uri: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    service_documentation: str


class JwksOut(Output):
    keys: list[dict[str, Any]]


class ServiceRef(Output):
    id: str
    slug: str
    name: str


class ConsentOut(Output):
    id: str
    service: ServiceRef
    scopes: list[str]
    uses: list[dict[str, Any]] = Field(
        description="per scope: title, tier, purpose, lawful basis, retention, sharing, optional"
    )
    status: ConsentStatus = Field(description="a consent past its expiry reads `expired`")
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    last_access_at: datetime | None

    @classmethod
    def of(cls, c: Consent, s: Service) -> ConsentOut:
        status = c.status
        if status is ConsentStatus.ACTIVE and c.expires_at <= utcnow():
            status = ConsentStatus.EXPIRED
        return cls(
            id=c.id,
            service=ServiceRef(id=s.id, slug=s.slug, name=s.name),
            scopes=c.scopes,
            uses=c.uses,
            status=status,
            granted_at=c.granted_at,
            expires_at=c.expires_at,
            ended_at=c.ended_at,
            end_reason=c.end_reason,
            last_access_at=c.last_access_at,
        )


class ConsentChange(Input):
    scopes: list[str] | None = Field(
        default=None, max_length=50, description="the scopes to keep: a subset of the current ones"
    )
    expires_at: datetime | None = Field(default=None, description="a new expiry, in the future")


class ReceiptOut(Output):
    receipt: str = Field(
        description="compact JWS (ES256) over the receipt; keys at /.well-known/jwks.json"
    )
    claims: dict[str, Any] = Field(description="the Kantara Consent Receipt v1.1 fields, as signed")


# -- kitemarks ---------------------------------------------------------------------------------


@router.get(
    "/v1/services/{service_id}/kitemarks",
    summary="A service's kitemarks",
    auth=Auth.PUBLIC,
    errors=(404,),
)
async def list_kitemarks(
    session: AsyncSession, platform: Platform, service_id: str, query: ListQuery
) -> Page[KitemarkOut]:
    """Current grants with status, expiry and the signed credential, newest first (superseded
    grants are history)."""
    if await session.get(Service, service_id) is None:
        raise errors.NotFound("no such service")
    rows, cursor = await paginate(
        session,
        grants.current_kitemarks(service_id),
        keys=[col(KitemarkGrant.id)],
        key_of=lambda row: [row[0].id],
        query=query,
        descending=True,
    )
    return Page[KitemarkOut](
        items=[KitemarkOut.of(platform, g, status) for g, status in rows], next_cursor=cursor
    )


@router.get(
    "/v1/kitemarks/{kitemark_id}/status",
    summary="Is this kitemark valid now?",
    auth=Auth.PUBLIC,
    errors=(404,),
)
async def kitemark_status(session: AsyncSession, kitemark_id: str) -> KitemarkStatusOut:
    """The status a verifier should trust, by primary key: suspension and revocation show at once."""
    found = await grants.grant_with_release_status(session, kitemark_id)
    if found is None:
        raise errors.NotFound("no such kitemark")
    state = grants.status_of(*found)
    return KitemarkStatusOut(status=state.status, valid=state.valid, expires_at=state.expires_at)


async def _change(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    kitemark_id: str,
    action: str,
    reason: str,
) -> KitemarkOut:
    grant = await grants.change_kitemark(session, principal, kitemark_id, action, reason)
    release = await session.get(Release, grant.release_id)
    assert release is not None
    return KitemarkOut.of(platform, grant, release.status)


@router.post(
    "/v1/kitemarks/{kitemark_id}/suspend",
    summary="Suspend a kitemark",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def suspend_kitemark(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    kitemark_id: str,
    body: ReasonIn,
) -> KitemarkOut:
    """Reviewers and admins, with a reason; the status endpoint and catalogue show it at once."""
    return await _change(session, platform, principal, kitemark_id, "suspend", body.reason)


@router.post(
    "/v1/kitemarks/{kitemark_id}/revoke",
    summary="Revoke a kitemark",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def revoke_kitemark(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    kitemark_id: str,
    body: ReasonIn,
) -> KitemarkOut:
    """Reviewers and admins, with a reason; a revoked kitemark never comes back."""
    return await _change(session, platform, principal, kitemark_id, "revoke", body.reason)


@router.post(
    "/v1/kitemarks/{kitemark_id}/reinstate",
    summary="Reinstate a suspended kitemark",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def reinstate_kitemark(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    kitemark_id: str,
    body: ReasonIn,
) -> KitemarkOut:
    """Reviewers and admins, with a reason; only a suspended kitemark that has not expired."""
    return await _change(session, platform, principal, kitemark_id, "reinstate", body.reason)


@router.post(
    "/v1/scope-grants/{grant_id}/revoke",
    summary="Revoke a scope grant",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def revoke_scope_grant(
    session: AsyncSession, principal: Principal, grant_id: str, body: ReasonIn
) -> ScopeGrantOut:
    """Reviewers and admins: the service's tokens lose the scope at the next request or introspection."""
    return ScopeGrantOut.of(
        await grants.revoke_scope_grant(session, principal, grant_id, body.reason)
    )


@router.get("/.well-known/jwks.json", summary="Public keys for credentials", auth=Auth.PUBLIC)
async def jwks(session: AsyncSession) -> JwksOut:
    """Every key that signs now, and retired keys until what they signed has expired."""
    return JwksOut(keys=await published_keys(session))


# -- the provider's view and OAuth client ------------------------------------------------------


@router.get("/v1/services/{service_id}", summary="A service (provider view)", errors=(404,))
async def get_service(
    session: AsyncSession, platform: Platform, principal: Principal, service_id: str
) -> ProviderServiceOut:
    """Members of the owning organisation only; anyone else gets 404. Releases, grants, client id."""
    service = await visible_service(session, principal, service_id)
    base = await service_out(session, service)
    client = (
        await session.exec(select(OAuthClient).where(OAuthClient.service_id == service.id))
    ).first()
    return ProviderServiceOut(
        **base.model_dump(),
        kitemarks=[
            KitemarkOut.of(platform, g, status)
            for g, status in await grants.service_kitemarks(session, service.id)
        ],
        scope_grants=[
            ScopeGrantOut.of(g) for g in await grants.service_scope_grants(session, service.id)
        ],
        oauth_client_id=client.client_id if client else None,
    )


async def _client_of(
    session: AsyncSession, principal: Principal, service_id: str, *, lock: bool = False
) -> OAuthClient:
    service = await visible_service(session, principal, service_id)
    statement = select(OAuthClient).where(OAuthClient.service_id == service.id)
    if lock:
        statement = statement.with_for_update()
    client = (await session.exec(statement)).first()
    if client is None:
        raise errors.NotFound("the service has no OAuth client until a release is approved")
    return client


@router.get(
    "/v1/services/{service_id}/oauth-client", summary="The service's OAuth client", errors=(404,)
)
async def get_oauth_client(
    session: AsyncSession, principal: Principal, service_id: str
) -> OAuthClientOut:
    """Members only. Redirect URIs and scopes come from the approved release and its grants."""
    client = await _client_of(session, principal, service_id)
    return OAuthClientOut(
        client_id=client.client_id,
        redirect_uris=client.redirect_uris,
        scopes=client.scopes,
        has_secret=client.secret_hash is not None,
        secret_rotated_at=client.secret_rotated_at,
    )


@router.post(
    "/v1/services/{service_id}/oauth-client",
    summary="Issue or rotate the client secret",
    scope=TokenScope.SERVICES_WRITE,
    errors=(403, 404),
)
async def rotate_client_secret(
    session: AsyncSession, platform: Platform, principal: Principal, service_id: str
) -> OAuthClientSecretOut:
    """A new secret, shown once; the old one stops working at once (tokens already issued live on)."""
    client = await _client_of(session, principal, service_id, lock=True)
    secret = new_token(CLIENT_SECRET_PREFIX)
    client.secret_hash = hash_token(secret)
    client.secret_rotated_at = utcnow()
    session.add(client)
    record_event(
        session,
        "oauth:client:secret_rotated",
        subject_type="oauth_client",
        subject_id=client.client_id,
        actor_id=principal.account_id,
        body={"service_id": client.service_id},
    )
    return OAuthClientSecretOut(client_id=client.client_id, client_secret=secret)


@oauth_router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414)",
    auth=Auth.PUBLIC,
)
async def oauth_metadata(platform: Platform) -> ServerMetadataOut:
    """Endpoints, grant types, PKCE methods and client authentication methods."""
    return ServerMetadataOut(**metadata(platform.settings.base_url))


# -- the citizen's consents --------------------------------------------------------------------


@me_router.get("/v1/me/consents", summary="Your consents")
async def list_consents(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[ConsentOut]:
    """Every consent you gave, newest first, with what each service may see and until when."""
    rows, cursor = await paginate(
        session,
        select(Consent, Service)
        .join(Service, col(Service.id) == col(Consent.service_id))
        .where(Consent.account_id == principal.account_id),
        keys=[col(Consent.id)],
        key_of=lambda row: [row[0].id],
        query=query,
        descending=True,
    )
    return Page[ConsentOut](items=[ConsentOut.of(c, s) for c, s in rows], next_cursor=cursor)


async def _consent_out(session: AsyncSession, consent: Consent) -> ConsentOut:
    service = await session.get(Service, consent.service_id)
    assert service is not None
    return ConsentOut.of(consent, service)


@me_router.get("/v1/me/consents/{consent_id}", summary="One of your consents", errors=(404,))
async def get_consent(session: AsyncSession, principal: Principal, consent_id: str) -> ConsentOut:
    """Yours only; anyone else's is 404."""
    return await _consent_out(session, await consents.own_consent(session, principal, consent_id))


@me_router.patch(
    "/v1/me/consents/{consent_id}",
    summary="Narrow a consent or change its expiry",
    scope=TokenScope.READ,
    errors=(404, 409, 422),
)
async def change_consent(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    consent_id: str,
    body: ConsentChange,
) -> ConsentOut:
    """Keep fewer scopes, or move the expiry (up to the platform maximum from when you gave it).

    Never widens: adding a scope takes the service's consent screen again.
    """
    consent = await consents.change_consent(
        session,
        principal,
        consent_id,
        scopes=body.scopes,
        expires_at=body.expires_at,
        max_days=platform.settings.consent_max_days,
    )
    return await _consent_out(session, consent)


@me_router.delete(
    "/v1/me/consents/{consent_id}",
    summary="Revoke a consent",
    scope=TokenScope.READ,
    errors=(404, 409),
)
async def revoke_consent(
    session: AsyncSession, principal: Principal, consent_id: str
) -> ConsentOut:
    """Every token issued under it is inactive from now on; the service gets `consent.revoked`."""
    return await _consent_out(
        session, await consents.revoke_consent(session, principal, consent_id)
    )


@me_router.get(
    "/v1/me/consents/{consent_id}/receipt", summary="A signed consent receipt", errors=(404,)
)
async def consent_receipt(
    session: AsyncSession, platform: Platform, principal: Principal, consent_id: str
) -> ReceiptOut:
    """The Kantara Consent Receipt v1.1 fields, signed with the platform key (compact JWS)."""
    claims, token = await consents.receipt(
        session, grants.keyring(platform), principal, consent_id, platform.settings.base_url
    )
    return ReceiptOut(receipt=token, claims=claims)
