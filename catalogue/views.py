"""HTTP API: the public catalogue, ratings and complaints, outcomes, and the citizen's own records."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from pydantic_core import to_json
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from catalogue import account, feedback, search
from catalogue.models import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    OutcomeReport,
    Rating,
    ServiceFigures,
)
from kitemarks import consents, grants
from kitemarks.models import GrantStatus
from kitemarks.views import ServiceRef
from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal
from marketplace.organisations.models import Organisation
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.releases.models import Release, Service
from marketplace.routing import Auth, Input, Output, Router, Timestamp

router = Router("catalogue")
me_router = Router("citizen")
provider_router = Router("outcomes and complaints")

TEXT = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


# -- search ------------------------------------------------------------------------------------


@router.get(
    "/v1/catalogue/services",
    summary="Search the catalogue",
    auth=Auth.PUBLIC,
    raw=True,
    response=search.SearchPage,
    extra_responses={304: "Not Modified: the `If-None-Match` tag is current"},
    response_headers={
        200: {"ETag": "send it back as `If-None-Match` to revalidate (304 while unchanged)"}
    },
)
async def search_catalogue(
    request: Request, platform: Platform, query: search.SearchQuery
) -> Response:
    """Published services only (suspended and withdrawn ones drop out the moment they change).

    `q` matches words (stemmed: "checkers" finds "checker") in the name, summary, description
    and provider; every word must match. Filters combine. `relevance` puts services whose name
    holds every word first, then the better rated, then the newer. Pages are keyset cursors:
    they stay stable while services are added.
    """
    return await search.search(request, platform, query)


# -- the service page --------------------------------------------------------------------------


class KitemarkOnPage(Output):
    id: str
    scheme: str
    status: GrantStatus
    valid: bool
    granted_at: datetime
    expires_at: datetime
    status_url: str


class DataUseOut(Output):
    scope: str
    title: str
    description: str
    data_owner: str
    tier: str
    tier_meaning: str
    purpose: str
    purpose_description: str
    lawful_basis: str
    retention_days: int | None
    shared_with_third_parties: bool
    optional: bool
    plain_english: str = Field(description="the whole use in one sentence")


class RatingsOut(Output):
    count: int
    mean: float | None
    distribution: dict[str, int] = Field(description="count of ratings per star, '1' to '5'")


class OutcomeValue(Output):
    period: str
    value: float
    reported_at: datetime


class OutcomeSeries(Output):
    metric: str
    unit: str | None
    description: str
    reports: list[OutcomeValue] = Field(description="latest value per period, newest period first")


class ComplaintFigures(Output):
    total: int
    open: int
    resolved: int
    median_days_to_resolve: float | None


class TransparencyFigures(Output):
    opt_ins: int = Field(description="consents ever given")
    active_consents: int
    revocations: int
    expiries: int
    complaints: ComplaintFigures


class ServicePage(Output):
    id: str
    slug: str
    name: str
    summary: str
    description: str
    category: str
    provider: dict[str, str]
    release: dict[str, Any] = Field(description="the listed release: id and number")
    website_url: str | None
    privacy_policy_url: str | None
    accessibility_statement_url: str | None
    support_email: str | None
    languages: list[str]
    pricing: dict[str, Any] | None
    under_review: bool
    listed_at: datetime
    kitemarks: list[KitemarkOnPage]
    data_uses: list[DataUseOut]
    ratings: RatingsOut
    outcomes: list[OutcomeSeries]
    transparency: TransparencyFigures


_PURPOSES = {
    "eligibility_check": "to check whether you are eligible",
    "identity_verification": "to confirm who you are",
    "service_delivery": "to provide the service",
    "personalisation": "to tailor the service to you",
    "research": "for research",
    "fraud_prevention": "to prevent fraud",
}


def _plain(use: dict[str, Any]) -> str:
    retention = use.get("retention_days")
    kept = (
        "not stored"
        if retention == 0
        else f"kept for {retention} days"
        if retention is not None
        else "kept as the provider's privacy notice says"
    )
    shared = "shared with others" if use.get("shared_with_third_parties") else "not shared"
    optional = " You can say no to this and still use the service." if use.get("optional") else ""
    return (
        f"Reads {use['title']} from {use.get('data_owner') or 'government'} "
        f"({use['tier_meaning']}) {_PURPOSES.get(use['purpose'], 'for the service')}; "
        f"{kept}; {shared}.{optional}"
    )


@router.get(
    "/v1/catalogue/services/{slug}",
    summary="A service's catalogue page",
    auth=Auth.PUBLIC,
    errors=(404,),
    extra_responses={304: "Not Modified: the `If-None-Match` tag is current"},
    response_headers={200: {"ETag": "send it back as `If-None-Match` to revalidate"}},
    response=ServicePage,
)
async def service_page(
    request: Request, session: AsyncSession, platform: Platform, slug: str
) -> Response:
    """Provider, kitemarks with status and expiry, every data use in plain English, ratings,
    outcomes and the public transparency figures."""
    page = await build_service_page(session, platform, slug)
    body = page.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**search.CACHE_HEADERS, "etag": etag}
    if search.not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def build_service_page(session: AsyncSession, platform: Platform, slug: str) -> ServicePage:
    """The service page's content: the API serves it as JSON, the web page renders it."""
    entry, service = await feedback.listed(session, slug)
    release = await session.get(Release, entry.release_id)
    organisation = await session.get(Organisation, entry.organisation_id)
    assert release is not None and organisation is not None
    manifest = release.manifest
    kitemarks = []
    for grant, release_status in await grants.service_kitemarks(session, service.id):
        if grant.status not in grants.LIVE:
            continue
        state = grants.status_of(grant, release_status)
        kitemarks.append(
            KitemarkOnPage(
                id=grant.id,
                scheme=grant.scheme,
                status=state.status,
                valid=state.valid,
                granted_at=grant.granted_at,
                expires_at=grant.expires_at,
                status_url=grants.status_url(platform, grant.id),
            )
        )
    granted = sorted(
        {
            g.scope
            for g in await grants.service_scope_grants(session, service.id)
            if g.status is GrantStatus.ACTIVE
        }
    )
    uses = await consents.data_uses(session, release, granted)
    figures = await session.get(ServiceFigures, service.id)
    return ServicePage(
        id=service.id,
        slug=service.slug,
        name=manifest.get("name", service.name),
        summary=manifest.get("summary", ""),
        description=manifest.get("description", ""),
        category=manifest.get("category", "other"),
        provider={"id": organisation.id, "name": organisation.name},
        release={"id": release.id, "number": release.number},
        website_url=manifest.get("website_url"),
        privacy_policy_url=manifest.get("privacy_policy_url"),
        accessibility_statement_url=manifest.get("accessibility_statement_url"),
        support_email=manifest.get("support_email"),
        languages=manifest.get("languages", ["en"]),
        pricing=manifest.get("pricing"),
        under_review=entry.under_review,
        listed_at=entry.listed_at,
        kitemarks=kitemarks,
        data_uses=[DataUseOut(**u, plain_english=_plain(u)) for u in uses],
        ratings=RatingsOut(**await feedback.rating_summary(session, service.id)),
        outcomes=[
            OutcomeSeries(**o)
            for o in await feedback.public_outcomes(
                session, service.id, manifest.get("outcome_metrics", [])
            )
        ],
        transparency=TransparencyFigures(
            opt_ins=figures.opt_ins if figures else 0,
            active_consents=await feedback.active_consent_count(session, service.id),
            revocations=figures.revocations if figures else 0,
            expiries=figures.expiries if figures else 0,
            complaints=ComplaintFigures(**await feedback.complaint_figures(session, service.id)),
        ),
    )


# -- ratings -----------------------------------------------------------------------------------


class RatingIn(Input):
    stars: int = Field(ge=1, le=5, description="1 to 5")
    comment: str | None = Field(
        default=None, max_length=feedback.COMMENT_MAX, description="optional, in words, no links"
    )


class RatingOut(Output):
    id: str
    service: ServiceRef
    stars: int
    comment: str | None
    verified: bool = Field(description="from a citizen who gave the service consent (always)")
    created_at: datetime
    updated_at: datetime


def _rating_out(rating: Rating, service: Service) -> RatingOut:
    return RatingOut(
        id=rating.id,
        service=ServiceRef(id=service.id, slug=service.slug, name=service.name),
        stars=rating.stars,
        comment=rating.comment,
        verified=True,
        created_at=rating.created_at,
        updated_at=rating.updated_at,
    )


@router.post(
    "/v1/catalogue/services/{slug}/ratings",
    summary="Rate a service you use",
    response=RatingOut,
    status_code=201,
    scope=TokenScope.READ,
    creates=True,
    errors=(403, 404),
    extra_responses={200: "your earlier rating, replaced"},
)
async def rate_service(
    session: AsyncSession, principal: Principal, slug: str, body: RatingIn
) -> Response:
    """Only citizens who hold or held a consent for the service; one rating each (201 the first
    time, 200 when it replaces yours). The mean shown is computed from the ratings."""
    rating, created = await feedback.rate(session, principal, slug, body.stars, body.comment)
    service = await session.get(Service, rating.service_id)
    assert service is not None
    return Response(
        _rating_out(rating, service).model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


class PublicRatingOut(Output):
    stars: int
    comment: str | None
    verified: bool
    updated_at: datetime


@router.get(
    "/v1/catalogue/services/{slug}/ratings",
    summary="A service's ratings",
    auth=Auth.PUBLIC,
    errors=(404,),
)
async def list_ratings(session: AsyncSession, slug: str, query: ListQuery) -> Page[PublicRatingOut]:
    """Newest first; anonymous (no names), every one from a verified user."""
    _, service = await feedback.listed(session, slug)
    rows, cursor = await paginate(
        session,
        select(Rating).where(Rating.service_id == service.id),
        keys=[col(Rating.updated_at), col(Rating.id)],
        key_of=lambda r: [r.updated_at, r.id],
        query=query,
        descending=True,
    )
    return Page[PublicRatingOut](
        items=[
            PublicRatingOut(
                stars=r.stars, comment=r.comment, verified=True, updated_at=r.updated_at
            )
            for r in rows
        ],
        next_cursor=cursor,
    )


# -- complaints --------------------------------------------------------------------------------


class ComplaintIn(Input):
    category: ComplaintCategory
    description: str = Field(min_length=1, max_length=5000, pattern=TEXT)


class ComplaintResponseOut(Output):
    id: str
    by: str = Field(description="`provider` or `reviewer`")
    message: str
    created_at: datetime


class ComplaintOut(Output):
    id: str
    service: ServiceRef
    release_id: str
    category: ComplaintCategory
    description: str
    status: ComplaintStatus
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None
    escalated_to_review: bool = Field(description="among the complaints that reopened review")
    responses: list[ComplaintResponseOut]


async def _complaints_out(session: AsyncSession, rows: list[Complaint]) -> list[ComplaintOut]:
    answers = await feedback.responses_of(session, [c.id for c in rows])
    services = {
        s.id: s
        for s in (
            await session.exec(
                select(Service).where(col(Service.id).in_({c.service_id for c in rows}))
            )
        ).all()
    }
    return [
        ComplaintOut(
            id=c.id,
            service=ServiceRef(
                id=c.service_id, slug=services[c.service_id].slug, name=services[c.service_id].name
            ),
            release_id=c.release_id,
            category=c.category,
            description=c.description,
            status=c.status,
            resolution=c.resolution,
            created_at=c.created_at,
            resolved_at=c.resolved_at,
            escalated_to_review=c.escalated_at is not None,
            responses=[
                ComplaintResponseOut(
                    id=a.id, by=a.author_role, message=a.message, created_at=a.created_at
                )
                for a in answers[c.id]
            ],
        )
        for c in rows
    ]


@router.post(
    "/v1/catalogue/services/{slug}/complaints",
    summary="Complain about a service",
    status_code=201,
    scope=TokenScope.READ,
    creates=True,
    errors=(404,),
)
async def file_complaint(
    session: AsyncSession, platform: Platform, principal: Principal, slug: str, body: ComplaintIn
) -> ComplaintOut:
    """The provider is told (webhook `complaint.received`) and can respond and resolve; reviewers
    see it too. When the open complaints about a service within
    `GOVSTORE_COMPLAINT_REVIEW_WINDOW_DAYS` reach `GOVSTORE_COMPLAINT_REVIEW_THRESHOLD`, its live
    release goes back to human review with them attached, and the catalogue shows it "under
    review" (it keeps working meanwhile)."""
    complaint = await feedback.complain(
        session,
        principal,
        slug,
        body.category,
        body.description,
        threshold=platform.settings.complaint_review_threshold,
        window_days=platform.settings.complaint_review_window_days,
    )
    return (await _complaints_out(session, [complaint]))[0]


@me_router.get("/v1/me/complaints", summary="Your complaints")
async def my_complaints(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[ComplaintOut]:
    """Newest first, with every response."""
    rows, cursor = await paginate(
        session,
        select(Complaint).where(Complaint.account_id == principal.account_id),
        keys=[col(Complaint.created_at), col(Complaint.id)],
        key_of=lambda c: [c.created_at, c.id],
        query=query,
        descending=True,
    )
    return Page[ComplaintOut](items=await _complaints_out(session, rows), next_cursor=cursor)


class ComplaintListQuery(ListQuery):
    status: ComplaintStatus | None = Field(
        default=None, description="only complaints in this state"
    )


@provider_router.get(
    "/v1/services/{service_id}/complaints",
    summary="Complaints about a service",
    errors=(404,),
)
async def service_complaints(
    session: AsyncSession, principal: Principal, service_id: str, query: ComplaintListQuery
) -> Page[ComplaintOut]:
    """For the provider's members, reviewers and admins; newest first. Complainants are not named."""
    await feedback.may_read_outcomes(session, principal, service_id)
    statement = select(Complaint).where(Complaint.service_id == service_id)
    if query.status is not None:
        statement = statement.where(Complaint.status == query.status)
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(Complaint.created_at), col(Complaint.id)],
        key_of=lambda c: [c.created_at, c.id],
        query=query,
        descending=True,
    )
    return Page[ComplaintOut](items=await _complaints_out(session, rows), next_cursor=cursor)


@provider_router.get("/v1/complaints/{complaint_id}", summary="One complaint", errors=(404,))
async def get_complaint(
    session: AsyncSession, principal: Principal, complaint_id: str
) -> ComplaintOut:
    """The complainant, the provider's members, reviewers and admins; anyone else 404."""
    complaint, _ = await feedback.visible_complaint(session, principal, complaint_id)
    return (await _complaints_out(session, [complaint]))[0]


class ComplaintReply(Input):
    message: str = Field(min_length=1, max_length=5000, pattern=TEXT)


class ComplaintResolution(Input):
    resolution: str = Field(min_length=1, max_length=2000, pattern=TEXT)


@provider_router.post(
    "/v1/complaints/{complaint_id}/responses",
    summary="Respond to a complaint",
    status_code=201,
    scope=TokenScope.SERVICES_WRITE,
    creates=True,
    errors=(403, 404, 409),
)
async def respond_to_complaint(
    session: AsyncSession, principal: Principal, complaint_id: str, body: ComplaintReply
) -> ComplaintOut:
    """The provider's members, reviewers and admins; the complaint reads `responded`."""
    complaint, _ = await feedback.respond(session, principal, complaint_id, body.message)
    await session.flush()
    return (await _complaints_out(session, [complaint]))[0]


@provider_router.post(
    "/v1/complaints/{complaint_id}/resolve",
    summary="Resolve a complaint",
    scope=TokenScope.SERVICES_WRITE,
    errors=(403, 404, 409),
)
async def resolve_complaint(
    session: AsyncSession, principal: Principal, complaint_id: str, body: ComplaintResolution
) -> ComplaintOut:
    """Say how it was resolved; resolved complaints no longer count toward re-review."""
    complaint = await feedback.resolve(session, principal, complaint_id, body.resolution)
    await session.flush()
    return (await _complaints_out(session, [complaint]))[0]


# -- outcomes ----------------------------------------------------------------------------------


class OutcomeIn(Input):
    period: str = Field(
        max_length=10, description="a year `2026`, a month `2026-10` or a quarter `2026-Q3`"
    )
    metric: str = Field(max_length=64, description="a metric the live release's manifest declared")
    value: float


class OutcomeOut(Output):
    id: str
    service_id: str
    release_id: str
    period: str
    metric: str
    value: float
    reported_by: str | None
    reported_at: datetime


def _outcome_out(r: OutcomeReport) -> OutcomeOut:
    return OutcomeOut(
        id=r.id,
        service_id=r.service_id,
        release_id=r.release_id,
        period=r.period,
        metric=r.metric,
        value=r.value,
        reported_by=r.reported_by,
        reported_at=r.reported_at,
    )


@provider_router.post(
    "/v1/services/{service_id}/outcomes",
    summary="Report an outcome",
    status_code=201,
    scope=TokenScope.SERVICES_WRITE,
    creates=True,
    errors=(404, 409),
)
async def report_outcome(
    session: AsyncSession, principal: Principal, service_id: str, body: OutcomeIn
) -> OutcomeOut:
    """Members of the service's organisation; a later report for the same period and metric
    replaces the public figure (both stay in the history)."""
    return _outcome_out(
        await feedback.report_outcome(
            session, principal, service_id, period=body.period, metric=body.metric, value=body.value
        )
    )


class OutcomeQuery(ListQuery):
    metric: str | None = Field(default=None, max_length=64, description="only this metric")


@provider_router.get(
    "/v1/services/{service_id}/outcomes", summary="A service's outcome history", errors=(404,)
)
async def outcome_history(
    session: AsyncSession, principal: Principal, service_id: str, query: OutcomeQuery
) -> Page[OutcomeOut]:
    """Every report, newest first: the provider's members, reviewers and admins."""
    await feedback.may_read_outcomes(session, principal, service_id)
    statement = select(OutcomeReport).where(OutcomeReport.service_id == service_id)
    if query.metric is not None:
        statement = statement.where(OutcomeReport.metric == query.metric)
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(OutcomeReport.reported_at), col(OutcomeReport.id)],
        key_of=lambda r: [r.reported_at, r.id],
        query=query,
        descending=True,
    )
    return Page[OutcomeOut](items=[_outcome_out(r) for r in rows], next_cursor=cursor)


# -- the citizen's own records -----------------------------------------------------------------


class DataApiRef(Output):
    id: str
    name: str
    data_owner: str


class AccessLine(Output):
    id: str
    at: datetime
    service: ServiceRef
    scope: str
    scope_title: str
    tier: str
    purpose: str
    purpose_description: str
    data_api: DataApiRef
    case_reference: str | None
    consent_id: str


class AccessLogQuery(ListQuery):
    service: str | None = Field(default=None, max_length=60, description="a service id or slug")
    since: Timestamp | None = Field(default=None, description="from this time (inclusive)")
    until: Timestamp | None = Field(default=None, description="before this time")


@me_router.get(
    "/v1/me/access-log", summary="Who read your data", raw=True, response=Page[AccessLine]
)
async def access_log(platform: Platform, principal: Principal, query: AccessLogQuery) -> Response:
    """Every read of your data through a consent, newest first: which service read which data,
    at which tier, for what purpose, through which department's data API, and when."""
    lines, cursor = await account.access_log_page(
        platform.db.raw,
        principal.account_id,
        service=query.service,
        since=query.since,
        until=query.until,
        cursor=query.cursor,
        limit=query.limit,
    )
    # Written by pydantic-core straight from the rows' dicts (a model per line costs more).
    return Response(to_json({"items": lines, "next_cursor": cursor}), media_type="application/json")


class ExportAccount(Output):
    id: str
    email: str
    display_name: str
    roles: list[str]
    created_at: datetime
    updated_at: datetime


class ExportToken(Output):
    id: str
    kind: str
    name: str
    prefix: str = Field(description="the first characters only; secrets are never exported")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ExportOrganisation(Output):
    id: str
    name: str
    role: str


class ExportConsent(Output):
    id: str
    service: ServiceRef
    scopes: list[str]
    uses: list[dict[str, Any]]
    status: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    last_access_at: datetime | None


class ExportRating(Output):
    id: str
    service: ServiceRef
    stars: int
    comment: str | None
    created_at: datetime
    updated_at: datetime


class ExportResponse(Output):
    by: str
    message: str
    at: datetime


class ExportComplaint(Output):
    id: str
    service: ServiceRef
    category: str
    description: str
    status: str
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None
    responses: list[ExportResponse]


class ExportOut(Output):
    format: Literal["govstore-citizen-export/1"]
    exported_at: datetime
    account: ExportAccount
    sign_ins_and_api_tokens: list[ExportToken]
    organisations: list[ExportOrganisation]
    consents: list[ExportConsent]
    access_log: list[AccessLine]
    ratings: list[ExportRating]
    complaints: list[ExportComplaint]


@me_router.get("/v1/me/export", summary="Everything held about you")
async def export_me(session: AsyncSession, principal: Principal) -> ExportOut:
    """One JSON document: account, sign-ins and API tokens (never their secrets), organisations,
    consents, the whole access log, ratings and complaints. docs/citizen-data.md explains every
    field."""
    return ExportOut.model_validate(await account.export(session, principal))


class ErasureIn(Input):
    password: str = Field(min_length=1, max_length=1024, description="your password, again")


@me_router.delete(
    "/v1/me",
    summary="Erase your account",
    status_code=204,
    scope=TokenScope.READ,
    errors=(403, 409),
)
async def erase_me(
    session: AsyncSession, platform: Platform, principal: Principal, body: ErasureIn
) -> None:
    """Needs your password again. Every consent is revoked (the services are told and their
    tokens die), your account and sign-ins are deleted, your ratings and complaints stay without
    your name, and audit and transparency entries stay but can no longer be linked to you."""
    await account.erase(session, platform.passwords, principal, body.password)
