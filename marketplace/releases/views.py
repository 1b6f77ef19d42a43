"""HTTP API for services and their releases (providers), and the published manifest schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import JSONResponse

from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal
from marketplace.guidelines.models import GuidelineVersion
from marketplace.organisations.services import visible_organisation
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.releases import services
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.manifest import manifest_schema
from marketplace.releases.models import Release, Service
from marketplace.routing import Auth, Input, Output, Router

router = Router("services")
schema_router = Router("guidelines")


class ServiceCreate(Input):
    slug: str = Field(
        min_length=3,
        max_length=60,
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        description="unique, URL-safe: lowercase words joined by hyphens",
    )
    name: str = Field(min_length=2, max_length=80, pattern=r"\S")


class ReleaseSummary(Output):
    id: str
    number: int
    status: ReleaseStatus
    created_at: datetime
    status_changed_at: datetime

    @classmethod
    def of(cls, r: Release) -> ReleaseSummary:
        return cls(
            id=r.id,
            number=r.number,
            status=r.status,
            created_at=r.created_at,
            status_changed_at=r.status_changed_at,
        )


class ServiceOut(Output):
    id: str
    slug: str
    name: str
    organisation_id: str
    created_at: datetime
    releases: list[ReleaseSummary] = Field(description="newest first")


class ReleaseSubmit(Input):
    manifest: dict[str, Any] = Field(
        description="the service manifest; see GET /v1/schemas/service-manifest"
    )


class WithdrawIn(Input):
    reason: str | None = Field(default=None, max_length=1000)


class HistoryEntry(Output):
    status: ReleaseStatus
    previous_status: ReleaseStatus | None
    action: str
    at: datetime
    actor_id: str | None
    reason: str | None = None


class ReleaseOut(Output):
    id: str
    service_id: str
    number: int
    status: ReleaseStatus
    manifest: dict[str, Any]
    guideline_version: str
    previous_release_id: str | None
    changed_fields: list[str] | None = Field(
        description="top-level manifest fields changed since the previous release"
    )
    created_at: datetime
    status_changed_at: datetime
    history: list[HistoryEntry]


async def service_out(session: AsyncSession, service: Service) -> ServiceOut:
    releases = (
        await session.exec(
            select(Release)
            .where(Release.service_id == service.id)
            .order_by(col(Release.number).desc())
        )
    ).all()
    return ServiceOut(
        id=service.id,
        slug=service.slug,
        name=service.name,
        organisation_id=service.organisation_id,
        created_at=service.created_at,
        releases=[ReleaseSummary.of(r) for r in releases],
    )


async def release_out(session: AsyncSession, release: Release) -> ReleaseOut:
    version = await session.get(GuidelineVersion, release.guideline_version_id)
    assert version is not None
    previous = (
        await session.get(Release, release.previous_release_id)
        if release.previous_release_id
        else None
    )
    events = await services.history(session, release)
    return ReleaseOut(
        id=release.id,
        service_id=release.service_id,
        number=release.number,
        status=release.status,
        manifest=release.manifest,
        guideline_version=version.version,
        previous_release_id=release.previous_release_id,
        changed_fields=services.manifest_changes(previous.manifest, release.manifest)
        if previous
        else None,
        created_at=release.created_at,
        status_changed_at=release.status_changed_at,
        history=[
            HistoryEntry(
                status=ReleaseStatus(e.body["to"]),
                previous_status=ReleaseStatus(e.body["from"]) if e.body.get("from") else None,
                action=e.body.get("action", ""),
                at=e.created_at,
                actor_id=e.actor_id,
                reason=e.body.get("reason"),
            )
            for e in events
        ],
    )


@schema_router.get(
    "/v1/schemas/service-manifest", summary="The service manifest JSON Schema", auth=Auth.PUBLIC
)
async def service_manifest_schema() -> JSONResponse:
    """JSON Schema (draft 2020-12) that every release's manifest must satisfy."""
    return JSONResponse(manifest_schema())


@router.post(
    "/v1/organisations/{org_id}/services",
    summary="Create a service",
    status_code=201,
    creates=True,
    scope=TokenScope.SERVICES_WRITE,
    errors=(403, 404, 409, 422),
)
async def create_service(
    session: AsyncSession, principal: Principal, org_id: str, body: ServiceCreate
) -> ServiceOut:
    """Create a service under one of your organisations; its slug must be unique."""
    service = await services.create_service(
        session, principal, org_id, slug=body.slug, name=body.name
    )
    return await service_out(session, service)


@router.get(
    "/v1/organisations/{org_id}/services", summary="An organisation's services", errors=(404,)
)
async def list_services(
    session: AsyncSession, principal: Principal, org_id: str, query: ListQuery
) -> Page[ServiceOut]:
    """Members only."""
    await visible_organisation(session, principal, org_id)
    rows, cursor = await paginate(
        session,
        select(Service).where(Service.organisation_id == org_id),
        keys=[col(Service.id)],
        key_of=lambda s: [s.id],
        query=query,
    )
    return Page[ServiceOut](items=[await service_out(session, s) for s in rows], next_cursor=cursor)


@router.post(
    "/v1/services/{service_id}/releases",
    summary="Submit a release",
    status_code=201,
    creates=True,
    scope=TokenScope.SERVICES_WRITE,
    errors=(403, 404, 409, 422),
)
async def submit_release(
    session: AsyncSession, principal: Principal, service_id: str, body: ReleaseSubmit
) -> ReleaseOut:
    """Submit a manifest for review against the current guideline version.

    An invalid manifest answers 422 listing every error with its JSON pointer; unknown scopes
    and kitemark schemes are errors too.
    """
    release = await services.submit_release(session, principal, service_id, body.manifest)
    return await release_out(session, release)


@router.get("/v1/services/{service_id}/releases", summary="A service's releases", errors=(404,))
async def list_releases(
    session: AsyncSession, principal: Principal, service_id: str, query: ListQuery
) -> Page[ReleaseSummary]:
    """Newest first."""
    service = await services.visible_service(session, principal, service_id)
    rows, cursor = await paginate(
        session,
        select(Release).where(Release.service_id == service.id),
        keys=[col(Release.number)],
        key_of=lambda r: [r.number],
        query=query,
        descending=True,
    )
    return Page[ReleaseSummary](items=[ReleaseSummary.of(r) for r in rows], next_cursor=cursor)


@router.post(
    "/v1/services/{service_id}/releases/{release_id}/withdraw",
    summary="Withdraw a release",
    scope=TokenScope.SERVICES_WRITE,
    errors=(404, 409),
)
async def withdraw_release(
    session: AsyncSession,
    principal: Principal,
    service_id: str,
    release_id: str,
    body: WithdrawIn | None,
) -> ReleaseOut:
    """Take a release out of review, or out of the catalogue if published. 409 if already final."""
    release = await services.withdraw_release(
        session, principal, service_id, release_id, body.reason if body else None
    )
    return await release_out(session, release)


class SuspendIn(Input):
    reason: str = Field(min_length=3, max_length=1000, pattern=r"\S")


@router.post(
    "/v1/services/{service_id}/suspend",
    summary="Suspend a service",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def suspend_service(
    session: AsyncSession, principal: Principal, service_id: str, body: SuspendIn
) -> ReleaseOut:
    """Reviewers and admins, with a reason: it leaves the catalogue and its tokens stop working
    at the next token request and the next introspection."""
    release = await services.suspend_service(session, principal, service_id, "suspend", body.reason)
    return await release_out(session, release)


@router.post(
    "/v1/services/{service_id}/reinstate",
    summary="Reinstate a suspended service",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def reinstate_service(
    session: AsyncSession, principal: Principal, service_id: str, body: SuspendIn
) -> ReleaseOut:
    """Admins only, with a reason: the suspended release is published again."""
    release = await services.suspend_service(
        session, principal, service_id, "reinstate", body.reason
    )
    return await release_out(session, release)
