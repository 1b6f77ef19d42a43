"""HTTP API for review: checks, the queue, claims, decisions, second approval; the provider's view."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace.accounts.models import TokenScope
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.organisations.models import Membership
from marketplace.pagination import ListQuery, Page, paginate
from marketplace.platform import Platform
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.models import Release, Service
from marketplace.releases.services import visible_release
from marketplace.releases.views import ReleaseOut, release_out
from marketplace.routing import Auth, Input, Output, Router
from review import services
from review.checks import REGISTRY
from review.models import Decision, Finding, FindingResult, FindingSource, Outcome, ReviewState

router = Router("review")
provider_router = Router("services")


class CheckOut(Output):
    id: str
    title: str
    description: str


class FindingOut(Output):
    code: str
    source: FindingSource
    check: str | None
    result: FindingResult
    severity: str
    pointer: str
    message: str
    fix: str
    created_at: datetime

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            code=f.code,
            source=f.source,
            check=f.check_id,
            result=f.result,
            severity=f.severity,
            pointer=f.pointer,
            message=f.message,
            fix=f.fix,
            created_at=f.created_at,
        )


class DecisionOut(Output):
    id: str
    release_id: str
    outcome: Outcome
    reason_codes: list[str] = Field(description="one per failed guideline")
    kitemarks: list[str]
    scopes: list[str]
    note: str | None
    needs_second_approval: bool
    second_outcome: Outcome | None
    decided_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(
            id=d.id,
            release_id=d.release_id,
            outcome=d.outcome,
            reason_codes=d.reason_codes,
            kitemarks=d.kitemarks,
            scopes=d.scopes,
            note=d.note,
            needs_second_approval=d.needs_second_approval,
            second_outcome=d.second_outcome,
            decided_at=d.decided_at,
            completed_at=d.completed_at,
        )


class QueueInfo(Output):
    position: int | None = Field(description="1 = next to be picked up; null once claimed")
    median_time_to_decision_seconds: float | None = Field(
        description="median over decisions in the last 30 days"
    )


class ReleaseDetail(ReleaseOut):
    findings: list[FindingOut]
    decision: DecisionOut | None
    queue: QueueInfo | None = Field(description="while the release waits for a reviewer")


class QueueItem(Output):
    release_id: str
    service_id: str
    service_name: str
    service_slug: str
    organisation_id: str
    number: int
    risk_score: int
    risk_factors: list[str]
    queued_at: datetime | None
    waiting_seconds: int


class ClaimOut(Output):
    release_id: str
    status: ReleaseStatus
    claimed_by: str
    lease_expires_at: datetime


class ReviewerRelease(ReleaseDetail):
    service_name: str
    organisation_id: str
    risk_score: int
    risk_factors: list[str]
    claimed_by: str | None
    lease_expires_at: datetime | None
    decisions: list[DecisionOut]


class FindingIn(Input):
    code: str = Field(max_length=20)
    result: FindingResult
    note: str | None = Field(default=None, max_length=2000)


class DecisionIn(Input):
    outcome: Outcome
    findings: list[FindingIn] = Field(max_length=300)
    kitemarks: list[str] = Field(default_factory=list, max_length=20)
    scopes: list[str] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=5000)


class SecondApprovalIn(Input):
    outcome: Outcome = Outcome.APPROVE
    note: str | None = Field(default=None, max_length=5000)


class AppealIn(Input):
    reason: str = Field(min_length=10, max_length=5000, pattern=r"\S")


async def detail_fields(session: AsyncSession, release: Release) -> dict[str, Any]:
    findings = (
        await session.exec(
            select(Finding).where(Finding.release_id == release.id).order_by(col(Finding.id))
        )
    ).all()
    decision = await services.latest_decision(session, release.id)
    queue = None
    if release.status in services.WAITING:
        queue = QueueInfo(
            position=await services.queue_position(session, release.id),
            median_time_to_decision_seconds=await services.median_time_to_decision(session),
        )
    return {
        "findings": [FindingOut.of(f) for f in findings],
        "decision": DecisionOut.of(decision) if decision else None,
        "queue": queue,
    }


async def release_detail(session: AsyncSession, release: Release) -> ReleaseDetail:
    base = await release_out(session, release)
    return ReleaseDetail(**base.model_dump(), **(await detail_fields(session, release)))


@router.get("/v1/checks", summary="Automated checks", auth=Auth.PUBLIC)
async def list_checks() -> Page[CheckOut]:
    """Every automated check a guideline can name, by id (one page: the list is short)."""
    return Page[CheckOut](
        items=[
            CheckOut(id=c.id, title=c.title, description=c.description)
            for c in sorted(REGISTRY.values(), key=lambda c: c.id)
        ],
        next_cursor=None,
    )


@router.get(
    "/v1/review/queue", summary="The review queue (reviewers)", errors=(403,), cacheable=True
)
async def review_queue(
    session: AsyncSession, principal: Principal, query: ListQuery
) -> Page[QueueItem]:
    """Releases awaiting review, oldest and riskiest first; never your own organisation's.

    Served from a per-process cache for GOVSTORE_RESPONSE_CACHE_SECONDS (1 s by default).
    """
    services.actor_for(principal)
    mine = select(Membership.organisation_id).where(Membership.account_id == principal.account_id)
    statement = (
        select(ReviewState, Release, Service)
        .join(Release, Release.id == ReviewState.release_id)  # type: ignore[arg-type]
        .join(Service, Service.id == Release.service_id)  # type: ignore[arg-type]
        .where(col(ReviewState.queued).is_(True))
        .where(Release.status == ReleaseStatus.AWAITING_REVIEW)
        .where(col(Service.organisation_id).not_in(mine))
        # Releases this reviewer decided before (appeals): excluded in SQL so pages stay full.
        .where(
            sa.not_(
                sa.cast(ReviewState.excluded_reviewers, sa.String).like(
                    f'%"{principal.account_id}"%'
                )
            )
        )
    )
    rows, cursor = await paginate(
        session,
        statement,
        keys=[col(ReviewState.queue_key), col(ReviewState.release_id)],
        key_of=lambda r: [r[0].queue_key.isoformat(), r[0].release_id],
        query=query,
    )
    now = utcnow()
    return Page[QueueItem](
        items=[
            QueueItem(
                release_id=release.id,
                service_id=service.id,
                service_name=service.name,
                service_slug=service.slug,
                organisation_id=service.organisation_id,
                number=release.number,
                risk_score=state.risk_score,
                risk_factors=state.risk_factors,
                queued_at=state.queued_at,
                waiting_seconds=int((now - (state.queued_at or now)).total_seconds()),
            )
            for state, release, service in rows
        ],
        next_cursor=cursor,
    )


@router.get(
    "/v1/review/releases/{release_id}",
    summary="A release under review (reviewers)",
    errors=(403, 404),
)
async def reviewer_release(
    session: AsyncSession, principal: Principal, release_id: str
) -> ReviewerRelease:
    """The manifest, the automated report, every decision and the claim, for reviewing."""
    release, service = await services._release_for_reviewer(session, principal, release_id)
    state = await session.get(ReviewState, release_id) or ReviewState(release_id=release_id)
    decisions = (
        await session.exec(
            select(Decision)
            .where(Decision.release_id == release_id)
            .order_by(col(Decision.decided_at))
        )
    ).all()
    detail = await release_detail(session, release)
    return ReviewerRelease(
        **detail.model_dump(),
        service_name=service.name,
        organisation_id=service.organisation_id,
        risk_score=state.risk_score,
        risk_factors=state.risk_factors,
        claimed_by=state.claimed_by,
        lease_expires_at=state.lease_expires_at,
        decisions=[DecisionOut.of(d) for d in decisions],
    )


@router.post(
    "/v1/review/releases/{release_id}/claim",
    summary="Claim a release for review",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409),
)
async def claim_release(
    platform: Platform, session: AsyncSession, principal: Principal, release_id: str
) -> ClaimOut:
    """Take a lease on a waiting release (claiming again renews it). 409 if another holds it."""
    release, state = await services.claim(
        session,
        principal,
        release_id,
        lease=timedelta(minutes=platform.settings.review_lease_minutes),
    )
    assert state.claimed_by and state.lease_expires_at
    return ClaimOut(
        release_id=release.id,
        status=release.status,
        claimed_by=state.claimed_by,
        lease_expires_at=state.lease_expires_at,
    )


@router.delete(
    "/v1/review/releases/{release_id}/claim",
    summary="Give a claimed release back",
    status_code=204,
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409),
)
async def release_claim(session: AsyncSession, principal: Principal, release_id: str) -> None:
    """Return the release to the queue without deciding."""
    await services.release_claim(session, principal, release_id)


@router.post(
    "/v1/review/releases/{release_id}/decision",
    summary="Decide on a release",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def decide(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    release_id: str,
    body: DecisionIn,
) -> DecisionOut:
    """Approve, reject or request changes, with a finding for every blocking guideline.

    An approval may grant fewer kitemarks or scopes than applied for, or a lower tier. Granting
    a high-sensitivity scope needs a second approval from a different reviewer.
    """
    decision = await services.decide(
        session,
        principal,
        release_id,
        outcome=body.outcome,
        findings=[services.FindingInput(f.code, f.result, f.note) for f in body.findings],
        kitemarks=body.kitemarks,
        scopes=body.scopes,
        note=body.note,
        on_approved=platform.on_approval,
    )
    return DecisionOut.of(decision)


@router.post(
    "/v1/review/releases/{release_id}/second-approval",
    summary="Second approval of high-sensitivity scopes",
    scope=TokenScope.REVIEW_WRITE,
    errors=(403, 404, 409, 422),
)
async def second_approval(
    session: AsyncSession,
    platform: Platform,
    principal: Principal,
    release_id: str,
    body: SecondApprovalIn | None,
) -> DecisionOut:
    """A different reviewer confirms the approval, or rejects or requests changes with a note."""
    body = body or SecondApprovalIn()
    decision = await services.second_approval(
        session,
        principal,
        release_id,
        outcome=body.outcome,
        note=body.note,
        on_approved=platform.on_approval,
    )
    return DecisionOut.of(decision)


@provider_router.get(
    "/v1/services/{service_id}/releases/{release_id}", summary="A release", errors=(404,)
)
async def get_release(
    session: AsyncSession, principal: Principal, service_id: str, release_id: str
) -> ReleaseDetail:
    """Status, manifest, findings (each pointing at a manifest field with its fix), the
    decision with reason codes, history, and while waiting: queue position and the current
    median time to decision."""
    _, release = await visible_release(session, principal, service_id, release_id)
    return await release_detail(session, release)


@provider_router.post(
    "/v1/services/{service_id}/releases/{release_id}/appeal",
    summary="Appeal a rejection",
    scope=TokenScope.SERVICES_WRITE,
    errors=(404, 409, 422),
)
async def appeal_release(
    session: AsyncSession, principal: Principal, service_id: str, release_id: str, body: AppealIn
) -> ReleaseDetail:
    """Once per release, after a rejection: it returns to the queue for a different reviewer."""
    release = await services.appeal(session, principal, service_id, release_id, body.reason)
    return await release_detail(session, release)
