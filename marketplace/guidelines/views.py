"""HTTP API for guideline versions, scopes, kitemark schemes (admin writes, anyone reads) and data APIs."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors
from marketplace.accounts.models import Role, TokenScope
from marketplace.auth import Principal
from marketplace.guidelines import services
from marketplace.guidelines.models import (
    DataApi,
    Guideline,
    GuidelineVersion,
    KitemarkScheme,
    Scope,
    Sensitivity,
    Severity,
    Tier,
    VersionStatus,
)
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.routing import Auth, Input, Output, Router

router = Router("guidelines")
admin_router = Router("admin")

CODE = r"^[A-Z]{2,6}-[0-9]{1,3}$"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SCOPE_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
TEXT = r"\S"


class GuidelineIn(Input):
    code: str = Field(pattern=CODE, description="e.g. PRIV-1")
    title: str = Field(min_length=3, max_length=200, pattern=TEXT)
    text: str = Field(min_length=10, max_length=10000, pattern=TEXT)
    category: str = Field(pattern=r"^[a-z][a-z-]{1,39}$")
    severity: Severity
    check: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9-]{1,59}$", description="automated check id"
    )
    kitemarks: list[str] = Field(default_factory=list, max_length=10)

    def draft(self) -> services.GuidelineDraft:
        return services.GuidelineDraft(
            code=self.code,
            title=self.title,
            text=self.text,
            category=self.category,
            severity=self.severity,
            check=self.check,
            kitemarks=self.kitemarks,
        )


class VersionCreate(Input):
    version: str = Field(pattern=r"^[0-9]{4}\.[0-9]{1,3}$", description="e.g. 2026.1")
    title: str = Field(min_length=3, max_length=200, pattern=TEXT)
    guidelines: list[GuidelineIn] = Field(min_length=1, max_length=300)


class VersionReplace(Input):
    title: str = Field(min_length=3, max_length=200, pattern=TEXT)
    guidelines: list[GuidelineIn] = Field(min_length=1, max_length=300)


class GuidelineOut(Output):
    code: str
    title: str
    text: str
    category: str
    severity: Severity
    check: str | None
    kitemarks: list[str]

    @classmethod
    def of(cls, g: Guideline) -> GuidelineOut:
        return cls(
            code=g.code,
            title=g.title,
            text=g.text,
            category=g.category,
            severity=g.severity,
            check=g.check_id,
            kitemarks=g.kitemarks,
        )


class VersionSummary(Output):
    version: str
    title: str
    status: VersionStatus
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, v: GuidelineVersion) -> VersionSummary:
        return cls(
            version=v.version,
            title=v.title,
            status=v.status,
            created_at=v.created_at,
            published_at=v.published_at,
        )


class VersionOut(VersionSummary):
    guidelines: list[GuidelineOut]


async def _version_out(session: AsyncSession, version: GuidelineVersion) -> VersionOut:
    guidelines = await services.guidelines_of(session, version)
    return VersionOut(
        **VersionSummary.of(version).model_dump(),
        guidelines=[GuidelineOut.of(g) for g in guidelines],
    )


class ScopeIn(Input):
    name: str = Field(pattern=SCOPE_NAME, max_length=100, description="e.g. income.verify")
    title: str = Field(min_length=3, max_length=200, pattern=TEXT)
    description: str = Field(min_length=10, max_length=2000, pattern=TEXT)
    tier: Tier
    sensitivity: Sensitivity
    data_owner: str = Field(min_length=2, max_length=200, pattern=TEXT)


class ScopeOut(Output):
    name: str
    title: str
    description: str
    tier: Tier
    sensitivity: Sensitivity
    data_owner: str
    created_at: datetime

    @classmethod
    def of(cls, s: Scope) -> ScopeOut:
        return cls(
            name=s.name,
            title=s.title,
            description=s.description,
            tier=s.tier,
            sensitivity=s.sensitivity,
            data_owner=s.data_owner,
            created_at=s.created_at,
        )


class ScopeQuery(ListQuery):
    tier: Tier | None = None
    data_owner: str | None = Field(default=None, max_length=200)


class SchemeIn(Input):
    slug: str = Field(pattern=SLUG, max_length=60)
    title: str = Field(min_length=3, max_length=200, pattern=TEXT)
    description: str = Field(min_length=10, max_length=5000, pattern=TEXT)
    criteria: list[str] = Field(min_length=1, max_length=100)
    validity_days: int = Field(ge=1, le=3650)


class SchemeOut(Output):
    slug: str
    title: str
    description: str
    criteria: list[str]
    validity_days: int
    created_at: datetime

    @classmethod
    def of(cls, s: KitemarkScheme) -> SchemeOut:
        return cls(
            slug=s.slug,
            title=s.title,
            description=s.description,
            criteria=s.criteria,
            validity_days=s.validity_days,
            created_at=s.created_at,
        )


class DataApiIn(Input):
    name: str = Field(min_length=2, max_length=200, pattern=TEXT)
    data_owner: str = Field(min_length=2, max_length=200, pattern=TEXT)


class DataApiOut(Output):
    id: str
    name: str
    data_owner: str
    client_id: str
    created_at: datetime
    client_secret: str | None = Field(
        default=None, description="for /oauth/introspect (HTTP Basic); shown once, at creation"
    )

    @classmethod
    def of(cls, d: DataApi, secret: str | None = None) -> DataApiOut:
        return cls(
            id=d.id,
            name=d.name,
            data_owner=d.data_owner,
            client_id=d.client_id,
            created_at=d.created_at,
            client_secret=secret,
        )


def _check_criteria(criteria: list[str]) -> None:
    bad = [
        errors.FieldError(f"/criteria/{i}", "must be a guideline code such as PRIV-1")
        for i, c in enumerate(criteria)
        if not re.match(CODE, c)
    ]
    if bad:
        raise errors.ValidationFailed(bad)


@router.post(
    "/v1/guidelines",
    summary="Draft a guideline version (admin)",
    status_code=201,
    creates=True,
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 409, 422),
)
async def create_guideline_version(
    platform: Platform, session: AsyncSession, principal: Principal, body: VersionCreate
) -> VersionOut:
    """Create a draft version; it can be revised until it is published. A guideline's `check`
    must be one of the automated checks listed at GET /v1/checks."""
    version = await services.create_version(
        session,
        principal,
        version=body.version,
        title=body.title,
        guidelines=[g.draft() for g in body.guidelines],
        known_checks=platform.check_ids,
    )
    return await _version_out(session, version)


@router.put(
    "/v1/guidelines/{version}",
    summary="Revise a draft guideline version (admin)",
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 404, 409, 422),
)
async def replace_guideline_version(
    platform: Platform,
    session: AsyncSession,
    principal: Principal,
    version: str,
    body: VersionReplace,
) -> VersionOut:
    """Replace a draft's title and guidelines. Published versions are immutable: 409."""
    record = await services.replace_draft(
        session,
        principal,
        version,
        title=body.title,
        guidelines=[g.draft() for g in body.guidelines],
        known_checks=platform.check_ids,
    )
    return await _version_out(session, record)


@router.post(
    "/v1/guidelines/{version}/publish",
    summary="Publish a guideline version (admin)",
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 404, 409),
)
async def publish_guideline_version(
    session: AsyncSession, principal: Principal, version: str
) -> VersionOut:
    """Publish a draft. New releases are reviewed against the latest published version."""
    record = await services.publish_version(session, principal, version)
    return await _version_out(session, record)


@router.get("/v1/guidelines", summary="List guideline versions", auth=Auth.OPTIONAL)
async def list_guideline_versions(
    session: AsyncSession, principal: Principal | None, query: ListQuery
) -> Page[VersionSummary]:
    """Published versions, newest first; admins also see drafts."""
    statement = select(GuidelineVersion)
    if principal is None or not principal.has_role(Role.ADMIN):
        statement = statement.where(GuidelineVersion.status == VersionStatus.PUBLISHED)
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(GuidelineVersion.id)],
        key_of=lambda v: [v.id],
        query=query,
        descending=True,
    )
    return Page[VersionSummary](items=[VersionSummary.of(v) for v in rows], next_cursor=cursor)


@router.get(
    "/v1/guidelines/current",
    summary="The current guideline version",
    auth=Auth.PUBLIC,
    errors=(404,),
)
async def current_guideline_version(session: AsyncSession) -> VersionOut:
    """The latest published version, with every guideline."""
    version = await services.current_version(session)
    if version is None:
        raise errors.NotFound("no guideline version has been published yet")
    return await _version_out(session, version)


@router.get(
    "/v1/guidelines/{version}", summary="A guideline version", auth=Auth.OPTIONAL, errors=(404,)
)
async def get_guideline_version(
    session: AsyncSession, principal: Principal | None, version: str
) -> VersionOut:
    """One version with its guidelines; drafts are visible to admins only."""
    return await _version_out(session, await services.readable_version(session, principal, version))


@router.post(
    "/v1/scopes",
    summary="Create a scope (admin)",
    status_code=201,
    creates=True,
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 409, 422),
)
async def create_scope(session: AsyncSession, principal: Principal, body: ScopeIn) -> ScopeOut:
    """Publish an API scope with its tier (status < summary < record) and sensitivity."""
    scope = await services.create_scope(
        session,
        principal,
        name=body.name,
        title=body.title,
        description=body.description,
        tier=body.tier,
        sensitivity=body.sensitivity,
        data_owner=body.data_owner,
    )
    return ScopeOut.of(scope)


@router.get("/v1/scopes", summary="List scopes", auth=Auth.PUBLIC)
async def list_scopes(session: AsyncSession, query: ScopeQuery) -> Page[ScopeOut]:
    """Every published scope, by name; filter by `tier` or `data_owner`."""
    statement = select(Scope)
    if query.tier is not None:
        statement = statement.where(Scope.tier == query.tier)
    if query.data_owner is not None:
        statement = statement.where(Scope.data_owner == query.data_owner)
    rows, cursor = await paginate(
        session, statement, keys=[col(Scope.name)], key_of=lambda s: [s.name], query=query
    )
    return Page[ScopeOut](items=[ScopeOut.of(s) for s in rows], next_cursor=cursor)


@router.post(
    "/v1/kitemark-schemes",
    summary="Create a kitemark scheme (admin)",
    status_code=201,
    creates=True,
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 409, 422),
)
async def create_kitemark_scheme(
    session: AsyncSession, principal: Principal, body: SchemeIn
) -> SchemeOut:
    """A kitemark scheme names the guideline codes it certifies and how long a grant lasts."""
    _check_criteria(body.criteria)
    scheme = await services.create_scheme(
        session,
        principal,
        slug=body.slug,
        title=body.title,
        description=body.description,
        criteria=body.criteria,
        validity_days=body.validity_days,
    )
    return SchemeOut.of(scheme)


@router.get("/v1/kitemark-schemes", summary="List kitemark schemes", auth=Auth.PUBLIC)
async def list_kitemark_schemes(session: AsyncSession, query: ListQuery) -> Page[SchemeOut]:
    """Every kitemark scheme, by slug."""
    rows, cursor = await paginate(
        session,
        select(KitemarkScheme),
        keys=[col(KitemarkScheme.slug)],
        key_of=lambda s: [s.slug],
        query=query,
    )
    return Page[SchemeOut](items=[SchemeOut.of(s) for s in rows], next_cursor=cursor)


@admin_router.post(
    "/v1/admin/data-apis",
    summary="Register a department's data API (admin)",
    status_code=201,
    creates=True,
    scope=TokenScope.ADMIN_WRITE,
    errors=(403, 422),
)
async def register_data_api(
    session: AsyncSession, principal: Principal, body: DataApiIn
) -> DataApiOut:
    """Returns introspection credentials; the client secret is shown in this response only."""
    data_api, secret = await services.register_data_api(
        session, principal, name=body.name, data_owner=body.data_owner
    )
    return DataApiOut.of(data_api, secret)


@admin_router.get("/v1/admin/data-apis", summary="List data APIs (admin)", errors=(403,))
async def list_data_apis(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[DataApiOut]:
    """Registered data APIs, without secrets."""
    principal.require_role(Role.ADMIN)
    rows, cursor = await paginate(
        session, select(DataApi), keys=[col(DataApi.id)], key_of=lambda d: [d.id], query=query
    )
    return Page[DataApiOut](items=[DataApiOut.of(d) for d in rows], next_cursor=cursor)
